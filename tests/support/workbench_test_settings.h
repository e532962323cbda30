#pragma once
// The settings every workbench test starts from: Qt's test-mode locations (so a test never
// reads or writes the user's QSettings), its own organisation, nothing left by an earlier
// run. Call from initTestCase(), before anything asks QStandardPaths.
//
// Qt's test mode still puts its locations under the home directory (.qttest): the workbench's data
// folder (the detector demo writes fashion-det-demo there and skips the writing when a
// data.yaml is already there) and its default runs folder would be the user's home, kept
// from one run to the next. HOME is therefore a scratch directory of this process, removed
// when it ends; the prunelab-cli processes a test starts inherit it.

#include <QCoreApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>

namespace prunelab::test {

inline void useCleanWorkbenchSettings() {
  static QTemporaryDir home;
  if (!home.isValid()) qFatal("no scratch directory for HOME");
  qputenv("HOME", home.path().toUtf8());
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName("PruneLabTest");
  QSettings().clear();
}

}  // namespace prunelab::test
