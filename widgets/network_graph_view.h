#pragma once
// NetworkGraphView: the model as a layered graph (Graphviz "dot", computed off the GUI
// thread; a newer request supersedes an older one). Boxes are coloured by the share of
// channels the plan prunes, by importance or by dependency group; hovering shows shape,
// channels kept/total and MACs; clicking a box emits layerClicked(). Scopes collapse
// into one box (double-click a node to collapse its block, a block to expand it), and
// large graphs start collapsed to their blocks (model.2, layer1.0). Wheel zooms under the
// mouse, dragging the background pans, Fit shows everything.
// Thread: GUI thread (layout threads only run computeLayout()).

#include <QHash>
#include <QPointer>
#include <QSet>
#include <QWidget>

#include "widgets/graph_layout.h"
#include "widgets/view_model.h"

class QComboBox;
class QGraphicsScene;
class QGraphicsView;
class QLabel;
class QThread;

namespace prunelab::widgets {

class GraphNodeItem;

class NetworkGraphView : public QWidget {
  Q_OBJECT
 public:
  enum class ColorMode { PruneRatio, Importance, Group };

  explicit NetworkGraphView(QWidget* parent = nullptr);
  ~NetworkGraphView() override;  // waits for layouts still running

  // A new model: re-layout (collapsed by default above 60 nodes).
  void setNetwork(const NetworkView& network);
  // Same structure, new kept/importance values: recolours only.
  void updateChannels(const NetworkView& network);
  // Highlights the box holding `name` and centres on it; emits nothing.
  void selectLayer(const QString& name);
  void setColorMode(ColorMode mode);

  void collapseScope(const QString& scope);
  void expandScope(const QString& scope);
  void expandAll();
  void collapseToBlocks();
  void fit();

  // For tests and tools.
  bool layoutReady() const { return m_laidOut == m_generation && m_generation > 0; }
  QStringList visibleKeys() const;                 // node names, or "[scope]" for collapsed blocks
  QPoint viewportPointOf(const QString& key) const;  // centre of a box in viewport coordinates
  QWidget* viewport() const;
  QColor fillOf(const QString& key) const;

 Q_SIGNALS:
  void layerClicked(const QString& name);
  void layoutFinished();

 private:
  friend class GraphNodeItem;
  struct Unit {
    QString key;
    QString label;
    QString tooltip;
    QVector<int> nodes;  // indices into m_net.nodes
    bool block = false;
  };
  void relayout();
  void applyLayout(const GraphLayout& layout, int generation);
  void recolour();
  void buildUnits();
  void unitClicked(const QString& key);
  void unitDoubleClicked(const QString& key);
  QString unitOfNode(int index) const;
  QColor colourOf(const Unit& u) const;
  QString tooltipOf(const Unit& u) const;

  NetworkView m_net;
  QHash<QString, int> m_nodeIndex;  // name -> index
  QSet<QString> m_collapsed;        // collapsed scopes
  QVector<Unit> m_units;
  QHash<QString, int> m_unitIndex;
  QHash<QString, GraphNodeItem*> m_items;
  QString m_selected;
  ColorMode m_mode = ColorMode::PruneRatio;
  int m_generation = 0;
  int m_laidOut = 0;
  bool m_fitPending = true;
  QList<QPointer<QThread>> m_threads;
  QVector<QPair<int, int>> m_pendingEdges;  // unit edges of the newest request

  QGraphicsScene* m_scene;
  QGraphicsView* m_view;
  QComboBox* m_colour;
  QLabel* m_legend;
  QLabel* m_status;
};

}  // namespace prunelab::widgets
