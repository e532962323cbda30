#pragma once
// NetworkGraphView: the model as a layered graph (Graphviz "dot", computed off the GUI
// thread; a newer request supersedes an older one, which is skipped if it has not started).
// Boxes are coloured by the share of channels the plan prunes, by importance or by
// dependency group; hovering shows shape, channels kept/total and MACs; clicking a box
// emits layerClicked(). Scopes collapse into one box ("[model.2]": summed MACs, kept/total
// of its convs): double-click or the context menu collapses a node's parent scope,
// double-click a block expands it. Graphs above 60 nodes open collapsed to the top-level
// scopes under the root (model.2, layer1). Wheel zooms under the mouse, dragging the
// background pans, Fit shows the whole graph.
// Thread: GUI thread (layout threads only run computeLayout()).

#include <QHash>
#include <QImage>
#include <QPointer>
#include <QSet>
#include <QWidget>

#include <atomic>
#include <memory>

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
  // Same structure, new kept/importance values: recolours only (a different node count
  // falls back to setNetwork()).
  void updateChannels(const NetworkView& network);
  // Highlights the box holding `name` (a collapsed block if it is inside one) and centres on
  // it unless it is already well inside the view; emits nothing.
  void selectLayer(const QString& name);
  void setColorMode(ColorMode mode);

  void collapseScope(const QString& scope);
  void expandScope(const QString& scope);
  void expandAll();
  void collapseToBlocks();  // the default view of large graphs
  void fit();               // the whole graph (never magnified above 1.5x)

  // For tests and tools. Keys are node names, or "[scope]" for collapsed blocks.
  bool layoutReady() const { return m_laidOut == m_generation && m_generation > 0; }
  // The whole laid-out graph (no toolbar, no scrolling) on white, at most `maxWidth`
  // pixels wide and 2x magnified at most: the report's picture.
  QImage sceneImage(int maxWidth) const;
  QStringList visibleKeys() const;
  QPoint viewportPointOf(const QString& key) const;  // centre of a box in viewport coordinates
  QRectF sceneBoxOf(const QString& key) const;       // a box in scene coordinates (null if absent)
  QWidget* viewport() const;
  QColor fillOf(const QString& key) const;

 Q_SIGNALS:
  void layerClicked(const QString& name);
  void layoutFinished();

 private:
  friend class GraphNodeItem;
  struct Unit {
    QString key;
    QVector<int> nodes;  // indices into m_net.nodes
    bool block = false;
    bool emphasised = false;  // Conv/Linear, or a block
  };
  void relayout();
  void applyLayout(const GraphLayout& layout, int generation);
  void placeAfterLayout();
  void recolour();
  void buildUnits();
  void unitClicked(const QString& key);
  void unitDoubleClicked(const QString& key);
  void unitMenu(const QString& key, const QPoint& screenPos);
  QString parentScopeOf(int node) const;  // the nearest enclosing scope holding >= 2 nodes
  int nodesInScope(const QString& scope) const;
  void collapseChildren(const QString& root, const QString& except);
  QColor colourOf(const Unit& u) const;
  QString tooltipOf(const Unit& u) const;
  QStringList linesOf(const Unit& u) const;
  void updateLegend();

  NetworkView m_net;
  QHash<QString, int> m_nodeIndex;  // name -> index
  QSet<QString> m_collapsed;        // collapsed scopes; the outermost one containing a node wins
  QVector<Unit> m_units;
  QVector<int> m_unitOfNode;        // node index -> index into m_units
  QHash<QString, int> m_unitIndex;  // key -> index into m_units
  QHash<QString, GraphNodeItem*> m_items;
  QString m_selected;
  QString m_focusScope;  // after the next layout, centre on this scope (collapse/expand)
  ColorMode m_mode = ColorMode::PruneRatio;
  int m_generation = 0;
  int m_laidOut = 0;
  bool m_fitPending = true;
  std::shared_ptr<std::atomic<int>> m_latest;  // newest generation, read by layout threads
  QList<QPointer<QThread>> m_threads;
  QVector<QPair<int, int>> m_pendingEdges;  // unit edges of the newest request

  QGraphicsScene* m_scene;
  QGraphicsView* m_view;
  QComboBox* m_colour;
  QLabel* m_legend;
  QLabel* m_status;
};

}  // namespace prunelab::widgets
