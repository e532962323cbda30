#pragma once
// NetworkGraphView: the model as a layered graph (Graphviz "dot", computed off the GUI
// thread; a newer request supersedes an older one, which is skipped if it has not started).
// Boxes are coloured by the share of channels the plan prunes, by importance or by
// dependency group; hovering shows shape, channels kept/total and MACs; clicking a box
// emits layerClicked().
//
// Semantic zoom. Two layouts are kept, each in its own scene: the nodes (where the user
// may collapse scopes into "[model.2]" blocks by hand: double-click or context menu) and
// the top-level blocks (model.2 for YOLO, layer1 for ResNet; a block shows its name, MACs
// and kept/total channels of its prunable convs). The view shows the nodes while their
// text is readable (zoom >= kNodeMinZoom: 10 px text at least 7 px on screen) and the blocks
// below that; wheeling into the blocks past kBlocksMaxZoom opens the nodes under the mouse,
// wheeling out of the nodes closes them, each keeping the block under the mouse in place.
// Fit shows the whole graph at the level that is readable. Text is never drawn below
// GraphNodeItem::kMinTextPx on screen. Selection and colours follow on both levels.
// While the graph does not fit, a minimap in the bottom-right corner shows the whole
// scene and the visible rectangle; clicking or dragging on it moves the view.
// Wheel zooms under the mouse, dragging the background pans.
// Thread: GUI thread (layout threads only run computeLayout()).

#include <QHash>
#include <QImage>
#include <QPointer>
#include <QSet>
#include <QWidget>

#include <atomic>
#include <memory>

#include "widgets/graph_layout.h"
#include "widgets/graph_units.h"
#include "widgets/view_model.h"

class QComboBox;
class QGraphicsScene;
class QGraphicsView;
class QLabel;
class QThread;

namespace prunelab::widgets {

class GraphMinimap;
class GraphNodeItem;

class NetworkGraphView : public QWidget {
  Q_OBJECT
 public:
  enum class ColorMode { PruneRatio, Importance, Group };
  enum class Level { Blocks, Nodes };
  static constexpr double kNodeMinZoom = 0.7;    // below: the nodes' text would be < 7 px
  static constexpr double kBlocksMaxZoom = 1.6;  // above: the blocks open into nodes

  explicit NetworkGraphView(QWidget* parent = nullptr);
  ~NetworkGraphView() override;  // waits for layouts still running

  // A new model: lays out both levels and fits. The same structure again (a training
  // snapshot) only recolours, keeping the level and zoom.
  void setNetwork(const NetworkView& network);
  // Same structure, new kept/importance values: recolours only (a different node count
  // falls back to setNetwork()).
  void updateChannels(const NetworkView& network);
  // Highlights the box holding `name` (its block at the block level or in a collapsed
  // scope) and centres on it unless it is already well inside the view; emits nothing.
  void selectLayer(const QString& name);
  void setColorMode(ColorMode mode);

  // The node level: collapse/expand scopes by hand.
  void collapseScope(const QString& scope);
  void expandScope(const QString& scope);
  void expandAll();         // every node, at a readable zoom
  void collapseToBlocks();  // the block level, whole
  void fit();               // the whole graph at the level readable there (never above 1.5x)
  // Zooms by `factor` keeping the scene point under `viewportPos` in place, switching
  // level where the thresholds say (what the wheel does).
  void zoomBy(double factor, QPointF viewportPos);

  // For tests and tools. Keys are node names, or "[scope]" for blocks.
  bool layoutReady() const { return m_laidOut == m_generation && m_generation > 0; }
  Level level() const { return m_level; }
  bool hasBlockLevel() const;  // false when the top-level blocks are just the nodes
  double zoom() const;         // the view's scale (1: one scene pixel per pixel)
  // The whole laid-out graph at the current level (no toolbar, no scrolling) on white, at
  // most `maxWidth` pixels wide and 2x magnified at most: the report's picture.
  QImage sceneImage(int maxWidth) const;
  QStringList visibleKeys() const;                   // the current level's boxes
  QStringList keysOf(Level level) const;             // a level's boxes, shown or not
  QStringList linesOf(Level level, const QString& key) const;  // a box's text as set (tests read the scene)
  // Boxes are looked up in the current level first, then in the other one.
  QPoint viewportPointOf(const QString& key) const;  // centre of a box in viewport coordinates
  QRectF sceneBoxOf(const QString& key) const;       // a box in scene coordinates (null if absent)
  QWidget* viewport() const;
  QColor fillOf(const QString& key) const;
  GraphMinimap* minimap() const { return m_minimap; }

 Q_SIGNALS:
  void layerClicked(const QString& name);
  void layoutFinished();
  void levelChanged(Level level);

 protected:
  bool eventFilter(QObject* watched, QEvent* e) override;

 private:
  friend class GraphNodeItem;
  struct LevelData {
    GraphUnits units;
    QGraphicsScene* scene = nullptr;  // owned by the view
    QHash<QString, GraphNodeItem*> items;
  };
  LevelData& data(Level l) { return m_levels[l == Level::Blocks ? 0 : 1]; }
  const LevelData& data(Level l) const { return m_levels[l == Level::Blocks ? 0 : 1]; }
  const LevelData& shown() const { return data(m_level); }

  void relayout(bool blocksToo);
  void applyLayout(const GraphLayout& nodes, const GraphLayout& blocks, bool withBlocks, int generation);
  void fillScene(LevelData& level, const GraphLayout& layout);
  void placeAfterLayout();
  void showLevel(Level l);
  void fitShown();
  void placeAt(QPointF scenePoint, QPointF viewportPos, double scale);
  void switchLevel(Level to, QPointF scenePoint, QPointF viewportPos);
  QVector<QRectF> boxesOf(Level l, const QVector<int>& nodes) const;  // the boxes holding any of `nodes`
  QRectF extentOf(Level l, const QVector<int>& nodes) const;          // ... and their union
  int unitAt(const LevelData& level, QPointF scenePoint) const;  // under it, else nearest
  void zoomIntoUnit(const QString& key);
  void recolour();
  void markSelection();
  void updateMinimap();
  void updateStatus();
  QSize viewportSize() const;  // the viewport's, or an estimate while never shown
  void unitClicked(const QString& key);
  void unitDoubleClicked(const QString& key);
  void unitMenu(const QString& key, const QPoint& screenPos);
  QString parentScopeOf(int node) const;  // the nearest enclosing scope holding >= 2 nodes
  int nodesInScope(const QString& scope) const;
  QColor colourOf(const GraphUnit& u) const;
  QString tooltipOf(const GraphUnit& u) const;
  QStringList linesOf(const GraphUnit& u) const;
  void updateLegend();

  NetworkView m_net;
  QHash<QString, int> m_nodeIndex;  // name -> index
  QSet<QString> m_collapsed;        // scopes collapsed by hand at the node level
  LevelData m_levels[2];            // [0] blocks, [1] nodes
  Level m_level = Level::Nodes;
  QString m_selected;
  QString m_focusScope;  // after the next layout, centre on this scope (collapse/expand)
  ColorMode m_mode = ColorMode::PruneRatio;
  int m_generation = 0;
  int m_laidOut = 0;
  bool m_fitPending = true;         // place the next layout as a new model
  bool m_nodesTopPending = false;   // show the next node layout at a readable zoom
  bool m_blocksPending = false;     // a request with the block level is on its way
  bool m_placedUnseen = false;      // placed before the viewport had its size: redo on resize
  bool m_fitted = false;            // showing Fit and not zoomed since: a resize fits again
  std::shared_ptr<std::atomic<int>> m_latest;  // newest generation, read by layout threads
  QList<QPointer<QThread>> m_threads;

  QGraphicsView* m_view;
  GraphMinimap* m_minimap;
  QComboBox* m_colour;
  QLabel* m_legend;
  QLabel* m_status;
};

}  // namespace prunelab::widgets
