#include "cli/progress_line.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace prunelab::cli {

namespace {

bool wanted(bool quiet) {
  if (quiet) return false;  // JSON on stdout stays parseable, whatever the environment says
  if (const char* e = std::getenv("PRUNELAB_PROGRESS")) return std::strcmp(e, "0") != 0;
  return isatty(fileno(stdout)) == 1;
}

std::string clock(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

ProgressLine::ProgressLine(bool quiet) : m_enabled(wanted(quiet)) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::start(const std::string& label) {
  finish();
  m_label = label;
  m_start = Clock::now();
  m_lastDraw = Clock::time_point{};
  m_samples = 0;
  m_firstDone = -1;
}

std::string ProgressLine::format(const std::string& label, double fraction, double imagesPerSec, double etaSeconds) {
  char rate[32] = "-";
  if (imagesPerSec > 0) std::snprintf(rate, sizeof rate, "%.0f", imagesPerSec);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %3.0f%%  %s img/s  ETA %s", label.c_str(), 100.0 * fraction, rate,
                etaSeconds >= 0 ? clock(etaSeconds).c_str() : "-");
  return buf;
}

void ProgressLine::update(int64_t done, int64_t total, int64_t samples) {
  if (!m_enabled || total <= 0) return;
  const Clock::time_point now = Clock::now();
  // The rate is counted from the first unit's end: the first unit's own time includes
  // start-up (threads, the first batch's decode) and would make the first figures wild.
  if (m_firstDone < 0) {
    m_firstDone = done;
    m_rateStart = now;
  } else {
    m_samples += samples;
  }
  if (done < total && now - m_lastDraw < std::chrono::milliseconds(100)) return;
  m_lastDraw = now;
  const double elapsed = std::chrono::duration<double>(now - m_start).count();
  const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  const double rateSeconds = std::chrono::duration<double>(now - m_rateStart).count();
  const double rate = rateSeconds > 0 ? static_cast<double>(m_samples) / rateSeconds : 0.0;
  const double eta = done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : -1.0;
  // \r and "erase to end of line": the line is redrawn in place.
  std::fprintf(stdout, "\r%s\033[K", format(m_label, fraction, rate, eta).c_str());
  std::fflush(stdout);
  m_shown = true;
}

void ProgressLine::finish() {
  if (!m_shown) return;
  std::fprintf(stdout, "\r\033[K");
  std::fflush(stdout);
  m_shown = false;
}

}  // namespace prunelab::cli
