#pragma once
// The settings every workbench test starts from: Qt's test-mode locations (so a test never
// reads or writes the user's QSettings), its own organisation, nothing left by an earlier
// run. Call from initTestCase().

#include <QCoreApplication>
#include <QSettings>
#include <QStandardPaths>

namespace prunelab::test {

inline void useCleanWorkbenchSettings() {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName("PruneLabTest");
  QSettings().clear();
}

}  // namespace prunelab::test
