#pragma once
// story.json, the manifest of a story run directory (layout: report/story_report.h): what
// was run, the commands that redo it, and per stage its checkpoint, training run and
// measured metric. The workbench writes it at the story's end; collectStoryReport() and
// `prunelab-cli report` read it. One reader and one writer, both here.

#include <string>
#include <utility>
#include <vector>

namespace prunelab {

struct StoryManifestStage {
  std::string name;        // original, sparse, pruned, fine-tuned
  std::string checkpoint;  // file name in the run directory
  std::string runDir;      // the stage's training run (results.csv), relative; "" for none
  double metric = -1.0;    // top-1 or mAP50-95 in [0, 1]; < 0: not measured
  double latencyMs = -1.0; // < 0: not measured
};

struct StoryManifest {
  std::string created;  // ISO 8601
  std::string model;    // the file or zoo name the story started from
  std::string data;
  std::string task = "classify";  // classify | detect
  std::string metric;             // "top-1" | "mAP50-95"; empty: the task's
  // name -> value as shown; a value that reads as a number is written as a JSON number.
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::string> commands;  // prunelab-cli lines that reproduce the run
  std::vector<StoryManifestStage> stages;
};

// The four stages of a story and their files, in order (metrics unset).
std::vector<StoryManifestStage> storyStages();

// Written atomically (a temporary file, then renamed). Errors name the file.
void writeStoryManifest(const StoryManifest& manifest, const std::string& path);
// Errors name the file and what is wrong (missing, not JSON, a stage without a checkpoint).
StoryManifest readStoryManifest(const std::string& path);

}  // namespace prunelab
