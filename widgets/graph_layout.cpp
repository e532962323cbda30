#include "widgets/graph_layout.h"

#include <graphviz/gvc.h>

#include <QHash>
#include <QMutex>
#include <QStringList>
#include <QTextStream>

namespace prunelab::widgets {

namespace {

constexpr double kDpi = 72.0;  // Graphviz works in inches; 1 inch = 72 scene pixels

QMutex& graphvizMutex() {
  static QMutex m;
  return m;
}

QString dotSource(const LayoutInput& in) {
  QString s;
  QTextStream o(&s);
  o << "digraph g { graph [rankdir=TB, nodesep=0.25, ranksep=" << in.rankSep << ", splines=spline];\n"
    << " node [shape=box, fixedsize=true];\n";
  for (int i = 0; i < in.nodes.size(); ++i)
    o << " n" << i << " [width=" << in.nodes[i].width / kDpi << ", height=" << in.nodes[i].height / kDpi << "];\n";
  for (const auto& e : in.edges) o << " n" << e.first << " -> n" << e.second << ";\n";
  o << "}\n";
  return s;
}

// Parses Graphviz's "plain" output: graph/node/edge lines in inches, y up.
void parsePlain(const QString& text, int nodeCount, int edgeCount, const LayoutInput& in, GraphLayout& out) {
  double height = 0;
  out.boxes = QVector<QRectF>(nodeCount);
  out.edges = QVector<QPainterPath>(edgeCount);
  QHash<QPair<int, int>, QVector<int>> pending;  // (tail, head) -> edge indices, in input order
  for (int i = 0; i < in.edges.size(); ++i) pending[in.edges[i]].push_back(i);
  auto flipY = [&height](double y) { return (height - y) * kDpi; };
  for (const QString& line : text.split('\n')) {
    const QStringList f = line.split(' ', Qt::SkipEmptyParts);
    if (f.isEmpty()) continue;
    if (f[0] == "graph" && f.size() >= 4) {
      height = f[3].toDouble();
      out.bounds = QRectF(0, 0, f[2].toDouble() * kDpi, height * kDpi);
    } else if (f[0] == "node" && f.size() >= 6) {
      const int id = f[1].mid(1).toInt();
      const double w = f[4].toDouble() * kDpi, h = f[5].toDouble() * kDpi;
      if (id >= 0 && id < nodeCount)
        out.boxes[id] = QRectF(f[2].toDouble() * kDpi - w / 2, flipY(f[3].toDouble()) - h / 2, w, h);
    } else if (f[0] == "edge" && f.size() >= 4) {
      const QPair<int, int> key(f[1].mid(1).toInt(), f[2].mid(1).toInt());
      auto it = pending.find(key);
      if (it == pending.end() || it->isEmpty()) continue;
      const int index = it->takeFirst();
      const int n = f[3].toInt();
      if (f.size() < 4 + 2 * n || n < 4) continue;
      QPainterPath p;
      auto pt = [&](int k) { return QPointF(f[4 + 2 * k].toDouble() * kDpi, flipY(f[5 + 2 * k].toDouble())); };
      p.moveTo(pt(0));
      for (int k = 1; k + 2 < n; k += 3) p.cubicTo(pt(k), pt(k + 1), pt(k + 2));
      out.edges[index] = p;
    }
  }
}

}  // namespace

GraphLayout computeLayout(const LayoutInput& input) {
  GraphLayout out;
  const QByteArray src = dotSource(input).toUtf8();
  QMutexLocker lock(&graphvizMutex());
  GVC_t* gvc = gvContext();
  Agraph_t* g = agmemread(src.constData());
  if (!g) {
    out.error = "Graphviz could not read the graph";
    gvFreeContext(gvc);
    return out;
  }
  char* buf = nullptr;
  unsigned int len = 0;
  if (gvLayout(gvc, g, "dot") != 0 || gvRenderData(gvc, g, "plain", &buf, &len) != 0) {
    out.error = "Graphviz layout failed";
  } else {
    parsePlain(QString::fromUtf8(buf, static_cast<int>(len)), input.nodes.size(), input.edges.size(), input, out);
    gvFreeRenderData(buf);
    gvFreeLayout(gvc, g);
  }
  agclose(g);
  gvFreeContext(gvc);
  return out;
}

}  // namespace prunelab::widgets
