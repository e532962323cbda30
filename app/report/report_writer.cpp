#include "report/report_writer.h"

#include <QBuffer>
#include <QDateTime>
#include <QFileInfo>
#include <QPageSize>
#include <QPdfWriter>
#include <QTextDocument>
#include <algorithm>
#include <cmath>
#include <map>

#include "report/network_structure.h"
#include "report/report_charts.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "widgets/format.h"
#include "widgets/palette.h"

namespace prunelab::report {

namespace {

// What bounds the latency line when it moves much less than MACs: at batch 1 a small model
// pays a fixed cost per layer (dispatch, memory traffic) that removing channels leaves.
QString latencyExplanation(const StoryReport& s) {
  const StageReport& first = s.stages.front();
  const StageReport& last = s.stages.back();
  if (!(first.latencyMs > 0 && last.latencyMs > 0 && first.macs > 0) || s.layers.empty()) return {};
  const double macsCut = 1.0 - double(last.macs) / double(first.macs);
  const double latencyCut = 1.0 - last.latencyMs / first.latencyMs;
  const int layers = static_cast<int>(s.layers.size());
  QString text = QString("<p>Latency fell %1 % while MACs fell %2 %. ").arg(100 * latencyCut, 0, 'f', 0).arg(100 * macsCut, 0, 'f', 0);
  if (macsCut > 0.1 && latencyCut < 0.5 * macsCut)
    text += QString("At batch 1 on a %1 input this model runs %2 convolution/linear layers in %3 ms, about %4 &micro;s "
                    "each: a fixed cost per layer (dispatch, memory traffic) that removing channels does not remove, "
                    "so MACs bound only part of the time. Larger inputs or batches, or a runtime that fuses layers "
                    "(ONNX Runtime, TensorRT), bring the latency closer to the MACs.")
                .arg(QString::fromStdString(s.input).toHtmlEscaped())
                .arg(layers)
                .arg(last.latencyMs, 0, 'f', 2)
                .arg(1000.0 * last.latencyMs / layers, 0, 'f', 0);
  else
    text += "Here the time follows the arithmetic: the layers are large enough that MACs, not per-layer overhead, "
            "bound the latency.";
  return text + "</p>";
}


QString esc(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }
QString pct(double v) { return QString::number(100.0 * v, 'f', 2) + "&nbsp;%"; }
QString stageTitle(const std::string& name) {
  static const std::map<std::string, QString> titles = {
      {"original", "Original"}, {"sparse", "Sparse-trained"}, {"pruned", "Pruned"}, {"fine-tuned", "Fine-tuned"}};
  auto it = titles.find(name);
  return it == titles.end() ? QString::fromStdString(name) : it->second;
}

QString dataUri(const QImage& img) {
  QByteArray bytes;
  QBuffer buf(&bytes);
  buf.open(QIODevice::WriteOnly);
  img.save(&buf, "PNG");
  return "data:image/png;base64," + QString::fromLatin1(bytes.toBase64());
}

// The final model's graph as the workbench's network view: kept/total channels per node.
widgets::NetworkView networkOf(const StoryReport& s) {
  widgets::NetworkView v = networkStructure(*s.final);
  for (const Node& n : s.final->nodes()) {
    widgets::GraphNodeInfo& info = v.nodes[n.id];
    info.kept = info.channels = outputChannels(*s.final, n);
    if (const Node* o = s.original->findNode(n.name)) info.channels = outputChannels(*s.original, *o);
  }
  return v;
}

struct Pictures {
  QImage gamma, curves, channels, network;
};

// The γ of every BN layer before and after sparse training, as % of channels per bin: the
// BN gammas panel's histogram, the two overlaid on shared bins up to the 99.5th percentile.
widgets::HistogramChart gammaChart(const StoryReport& s) {
  const QVector<float> before(s.gammaOriginal.begin(), s.gammaOriginal.end()), after(s.gammaSparse.begin(), s.gammaSparse.end());
  QVector<float> all = before + after;
  std::sort(all.begin(), all.end());
  widgets::HistogramChart chart;
  chart.max = all.isEmpty() ? 1.0 : std::max(1e-6, double(all[static_cast<int>(0.995 * (all.size() - 1))]));
  chart.yLabel = "% of channels";
  const int bins = 40;
  auto add = [&](const QVector<float>& values, const QString& name, const QColor& colour) {
    if (values.isEmpty()) return;
    QVector<double> counts(bins, 0.0);
    widgets::addToHistogram(counts, values, chart.max);
    for (double& c : counts) c = 100.0 * c / values.size();
    chart.series.push_back({name, counts, colour});
  };
  add(before, "before sparse training", widgets::palette::before());
  add(after, "after sparse training", widgets::palette::gamma());
  return chart;
}

// Train loss and the metric per epoch over the whole story, as the Curves panel names them,
// with a mark where each stage starts.
widgets::CurveChart trainingChart(const StoryReport& s) {
  widgets::CurveChart chart;
  const QString metric = QString::fromStdString(s.metricName);
  chart.series.resize(2);
  chart.series[0].name = "train/loss";
  chart.series[0].label = "train loss";
  chart.series[1].name = s.task == "detect" ? "metrics/mAP50-95" : "val/top1";
  chart.series[1].label = metric + " (val)";
  chart.series[1].rightAxis = true;
  chart.xLabel = "epoch (sparse training, then fine-tuning)";
  chart.yLabel = "train loss";
  chart.rightLabel = metric + " %";
  std::string stage;
  for (size_t i = 0; i < s.epochs.size(); ++i) {
    const EpochRecord& e = s.epochs[i];
    const double x = static_cast<double>(i + 1);
    if (e.stage != stage) {
      chart.marks.push_back({x - 0.5, QString::fromStdString(e.stage)});
      stage = e.stage;
    }
    chart.series[0].x << x;
    chart.series[0].y << e.trainLoss;
    if (e.metric >= 0) {
      chart.series[1].x << x;
      chart.series[1].y << 100.0 * e.metric;
    }
  }
  return chart;
}

Pictures draw(const StoryReport& s) {
  Pictures p;
  const QSize wide(900, 380);
  if (!s.gammaOriginal.empty() || !s.gammaSparse.empty()) p.gamma = histogramChart(gammaChart(s), wide);
  if (!s.epochs.empty()) p.curves = curvesChart(trainingChart(s), wide);
  QStringList names;
  QVector<double> before, after;
  for (const LayerChange& l : s.layers) {
    names << QString::fromStdString(l.name);
    before << static_cast<double>(l.before);
    after << static_cast<double>(l.after);
  }
  if (!names.isEmpty()) p.channels = channelsChart(names, before, after, QSize(900, std::clamp(static_cast<int>(names.size()) * 16 + 80, 300, 1400)));
  if (s.final && s.original) p.network = networkPicture(networkOf(s), QSize(900, 1000));
  return p;
}

// The pictures of one output: inline as data URIs (the HTML file), or named resources
// "img/<name>.png" collected in `images`, as QTextDocument wants them (the PDF).
class ImageTags {
 public:
  ImageTags(bool inlineImages, QVector<QPair<QString, QImage>>* images) : m_inline(inlineImages), m_images(images) {}
  QString operator()(const QString& name, const QImage& image, int width) const {
    if (image.isNull()) return "<p><i>(no picture: not enough data)</i></p>";
    QString src;
    if (m_inline) {
      src = dataUri(image);
    } else {
      src = "img/" + name + ".png";
      if (m_images) m_images->push_back({src, image});
    }
    // Never wider than the column, never magnified (the network picture can be narrow).
    // QTextDocument lays out at 96 px per inch and print() adds 2 cm margins: an A4 column holds ~600 px.
    const int shown = std::min(m_inline ? width : std::min(width, 600), image.width() / 2);
    return QString("<p align=\"center\"><img src=\"%1\" width=\"%2\"></p>").arg(src).arg(shown);
  }

 private:
  bool m_inline;
  QVector<QPair<QString, QImage>>* m_images;
};

// The report's text colours; the PDF's QTextDocument takes a subset of the same rules.
const QString kInk = "#1f2d3a", kHeading = "#1f3b57", kRule = "#c8d3de", kHeaderFill = "#eef3f7", kCodeFill = "#f4f6f8";

QString htmlHead(const StoryReport& s) {
  const QString muted = widgets::palette::css(widgets::palette::muted());
  return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>PruneLab report - " + esc(s.model) + "</title>" +
         "<style>body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:960px;margin:24px auto;color:" + kInk + "}"
         "h1{color:" + kHeading + "}h2{color:" + kHeading + ";border-bottom:1px solid " + kRule + ";padding-bottom:4px;margin-top:28px}"
         "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid " + kRule + ";padding:4px 8px;text-align:right}"
         "th{background:" + kHeaderFill + "}td{white-space:nowrap}td.l,th.l{text-align:left}td.l{white-space:normal}.big{font-size:1.15em}"
         "pre{background:" + kCodeFill + ";padding:8px;white-space:pre-wrap;font-size:0.85em}.muted{color:" + muted + "}</style></head><body>";
}

QString pdfStyleSheet() {
  return "h1{color:" + kHeading + "} h2{color:" + kHeading + "} th{background:" + kHeaderFill + "} .muted{color:" +
         widgets::palette::css(widgets::palette::muted()) + "} td{white-space:nowrap} td.l{white-space:normal}";
}

// Title line, the summary sentence and what the cut itself cost.
QString summarySection(const StoryReport& s) {
  const StageReport& first = s.stages.front();
  const StageReport& last = s.stages.back();
  QString h = "<h1>PruneLab report: " + esc(s.model) + "</h1>";
  h += "<p class=\"muted\">" + esc(s.task == "detect" ? "Detector" : "Classifier") + " on " + esc(s.data) + ", input " +
       esc(s.input) + ". Run " + esc(s.created) + "; report written " +
       QDateTime::currentDateTime().toString("yyyy-MM-dd hh:mm") + ".</p>";
  h += "<p class=\"big\">Parameters <b>" + widgets::formatChange(first.params, last.params) + "</b>, MACs <b>" + widgets::formatChange(first.macs, last.macs) +
       "</b>, size <b>" + widgets::formatChange(first.sizeBytes, last.sizeBytes) + "</b>";
  if (first.latencyMs > 0 && last.latencyMs > 0)
    h += ", batch-1 latency " + QString::number(first.latencyMs, 'f', 2) + " &rarr; " + QString::number(last.latencyMs, 'f', 2) +
         " ms (<b>" + QString::number(first.latencyMs / last.latencyMs, 'f', 2) + "x</b>)";
  if (first.metric >= 0 && last.metric >= 0)
    h += "; " + esc(s.metricName) + " " + pct(first.metric) + " &rarr; <b>" + pct(last.metric) + "</b> (" +
         QString("%1%2 pp").arg(last.metric >= first.metric ? "+" : "").arg(100 * (last.metric - first.metric), 0, 'f', 2) + ")";
  h += ".</p>";
  for (size_t i = 1; i < s.stages.size(); ++i)  // what the cut itself cost, before any fine-tuning
    if (s.stages[i].name == "pruned" && s.stages[i - 1].metric >= 0 && s.stages[i].metric >= 0)
      h += "<p>The cut itself, before any fine-tuning, cost <b>" +
           QString::number(100 * (s.stages[i - 1].metric - s.stages[i].metric), 'f', 1) + " points</b> of " +
           esc(s.metricName) + " (" + pct(s.stages[i - 1].metric) + " &rarr; " + pct(s.stages[i].metric) + ").</p>";
  return h;
}

// Params, MACs, size, latency and the metric at every stage, and why latency moves less.
QString stagesSection(const StoryReport& s) {
  QString h = "<h2>Before and after</h2><table width=\"100%\" cellspacing=\"0\"><tr><th class=\"l\">stage</th><th>params</th><th>MACs</th><th>size</th>"
              "<th>latency (batch 1)</th><th>" + esc(s.metricName) + "</th></tr>";
  for (const StageReport& st : s.stages) {
    h += "<tr><td class=\"l\">" + stageTitle(st.name) + "</td><td>" + widgets::formatCount(st.params) + "</td><td>" + widgets::formatCount(st.macs) +
         "</td><td>" + QString::number(st.sizeBytes / 1e6, 'f', 2) + " MB</td><td>" +
         (st.latencyMs > 0 ? QString::number(st.latencyMs, 'f', 2) + "&nbsp;ms" : QString("&ndash;")) + "</td><td>" +
         (st.metric >= 0 ? pct(st.metric) : QString("&ndash;")) + "</td></tr>";
  }
  h += "</table><p class=\"muted\">Pruned: right after the cut, before fine-tuning. MACs counted with the " +
       esc(s.macsConvention) + " convention. Latency: lower quartile of 31 batch-1 CPU runs on this machine, the "
       "two models measured alternately.</p>";
  return h + latencyExplanation(s);
}

QString channelsSection(const StoryReport& s, const Pictures& pics, const ImageTags& img) {
  QString h = "<h2>Channels per layer</h2>";
  h += img("channels", pics.channels, 760);
  h += "<table width=\"100%\" cellspacing=\"0\"><tr><th class=\"l\">layer</th><th class=\"l\">op</th><th>before</th><th>after</th><th>cut</th></tr>";
  for (const LayerChange& l : s.layers)
    h += "<tr><td class=\"l\">" + esc(l.name) + "</td><td class=\"l\">" + esc(l.op) + "</td><td>" + QString::number(l.before) +
         "</td><td>" + QString::number(l.after) + "</td><td>" +
         (l.before > 0 ? QString::number(100.0 * (l.before - l.after) / l.before, 'f', 0) + " %" : QString()) + "</td></tr>";
  return h + "</table>";
}

QString gammaSection(const StoryReport& s, const Pictures& pics, const ImageTags& img) {
  QString h = "<h2>BatchNorm &gamma; before and after sparse training</h2>";
  h += "<p>Sparse training adds an L1 penalty on the BatchNorm scale factors &gamma; (Network Slimming). Channels whose "
       "&gamma; is driven towards zero contribute little and are the ones the <i>bn</i> criterion removes.</p>";
  h += img("gamma", pics.gamma, 760);
  auto stats = [](const std::vector<float>& g) {
    if (g.empty()) return QString("&ndash;");
    double mean = 0;
    int small = 0;
    for (float v : g) {
      mean += v;
      small += v < 0.01f;
    }
    return QString("mean |&gamma;| %1, %2 % below 0.01 (%3 channels)")
        .arg(mean / g.size(), 0, 'f', 3)
        .arg(100.0 * small / g.size(), 0, 'f', 1)
        .arg(g.size());
  };
  return h + "<p>Before: " + stats(s.gammaOriginal) + ".<br>After: " + stats(s.gammaSparse) + ".</p>";
}

QString trainingSection(const StoryReport& s, const Pictures& pics, const ImageTags& img) {
  QString h = "<h2>Training</h2>";
  h += img("curves", pics.curves, 760);
  if (s.epochs.empty()) return h;
  h += "<table width=\"100%\" cellspacing=\"0\"><tr><th class=\"l\">stage</th><th>epoch</th><th>train loss</th><th>" + esc(s.metricName) +
       "</th><th>lr</th><th>sr</th><th>mean |&gamma;|</th></tr>";
  for (const EpochRecord& e : s.epochs)
    h += "<tr><td class=\"l\">" + esc(e.stage) + "</td><td>" + QString::number(e.epoch) + "</td><td>" +
         QString::number(e.trainLoss, 'f', 4) + "</td><td>" + (e.metric >= 0 ? pct(e.metric) : QString("&ndash;")) +
         "</td><td>" + QString::number(e.lr, 'g', 3) + "</td><td>" + QString::number(e.sr, 'g', 3) + "</td><td>" +
         QString::number(e.gammaMean, 'f', 3) + "</td></tr>";
  return h + "</table>";
}

QString networkSection(const Pictures& pics, const ImageTags& img) {
  return "<h2>The pruned network</h2><p>Boxes are coloured by the share of their channels that was cut (blocks "
         "collapse their layers); each shows kept/total channels.</p>" +
         img("network", pics.network, 760);
}

QString reproduceSection(const StoryReport& s) {
  QString h = "<h2>Reproduce this run</h2><p>The same steps with PruneLab's command line:</p><pre>";
  for (const std::string& c : s.commands) h += esc(c) + "\n";
  h += "</pre><table width=\"100%\" cellspacing=\"0\"><tr><th class=\"l\">setting</th><th class=\"l\">value</th></tr>";
  for (const auto& [k, v] : s.settings) h += "<tr><td class=\"l\">" + esc(k) + "</td><td class=\"l\">" + esc(v) + "</td></tr>";
  return h + "</table><p class=\"muted\">Run directory: " + esc(s.runDir) + "</p>";
}

// `inlineImages`: pictures as data URIs (the HTML file); else named resources "img/<name>.png"
// collected in `images`, as QTextDocument wants them (the PDF).
QString reportHtml(const StoryReport& s, const Pictures& pics, bool inlineImages,
                   QVector<QPair<QString, QImage>>* images = nullptr) {
  const ImageTags img(inlineImages, images);
  return htmlHead(s) + summarySection(s) + stagesSection(s) + channelsSection(s, pics, img) + gammaSection(s, pics, img) +
         trainingSection(s, pics, img) + networkSection(pics, img) + reproduceSection(s) + "</body></html>";
}

void writePdf(const StoryReport& story, const Pictures& pics, const std::string& path) {
  QVector<QPair<QString, QImage>> images;
  const QString html = reportHtml(story, pics, false, &images);
  QTextDocument doc;
  for (const auto& [name, image] : images) doc.addResource(QTextDocument::ImageResource, QUrl(name), image);
  doc.setDefaultStyleSheet(pdfStyleSheet());
  doc.setHtml(html);
  replaceFileAtomically(path, [&](const std::string& tmp) {
    QPdfWriter pdf(QString::fromStdString(tmp));
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setPageMargins(QMarginsF(5, 5, 5, 5), QPageLayout::Millimeter);  // print() adds its own 2 cm
    pdf.setResolution(150);
    pdf.setTitle("PruneLab report - " + QString::fromStdString(story.model));
    pdf.setCreator("PruneLab");
    doc.print(&pdf);
  });
}

}  // namespace

void writeReport(const StoryReport& story, const QStringList& paths) {
  for (const QString& p : paths) {
    const QString ext = QFileInfo(p).suffix().toLower();
    if (ext != "html" && ext != "htm" && ext != "pdf") throw Error(p.toStdString(), "the report is written as .html or .pdf");
  }
  const Pictures pics = draw(story);  // once for every file: the network layout is the slow part
  for (const QString& p : paths) {
    if (QFileInfo(p).suffix().toLower() == "pdf") {
      writePdf(story, pics, p.toStdString());
    } else {
      const QByteArray html = reportHtml(story, pics, true).toUtf8();
      writeFileAtomically(p.toStdString(), [&](std::ostream& os) { os.write(html.constData(), html.size()); });
    }
  }
}

}  // namespace prunelab::report
