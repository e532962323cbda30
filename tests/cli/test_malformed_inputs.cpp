// The malformed-input catalogue (issue 15 items 11 and 12): one row per hostile input
// (truncated, random or lying files, values out of range, outputs that cannot or must not
// be written). Each row runs prunelab-cli and requires
//   - the expected exit code: 1 for a request that cannot be done; 2 only where CLI11
//     itself rejects the command line (README "Exit codes": a value that does not
//     convert, an unknown option); 0 for inputs that load with a warning;
//   - a message naming the file or option and the problem (every listed fragment);
//   - no crash: a normal exit, no "terminate called", no LibTorch stack trace
//     ("Exception raised from"), no "internal error" (exit 3);
//   - no hang: a per-row timeout;
//   - no damage: an existing file given as the output is byte-identical afterwards, and
//     no temporary file (*.tmp.*) is left next to it.
// The bad files are made here, in a QTemporaryDir, from valid ones the CLI writes itself
// or from hand-made bytes.

#include "malformed_support.h"
#include "malformed_round_two.h"

using namespace malformed;

class TestMalformedInputs : public QObject {
  Q_OBJECT

  QTemporaryDir m_tmp;
  QString m_valid;  // dir with the valid files the bad ones are made from
  std::vector<Case> m_cases;

  QString valid(const QString& name) const { return m_valid + "/" + name; }

  void add(Case c) { m_cases.push_back(std::move(c)); }

  // The rows. Files named in args with "@" live in the row's own directory.
  void buildCatalogue() {
    auto copyValid = [this](const QString& name, const QString& as) {
      return [this, name, as](const QString& dir) { QFile::copy(valid(name), dir + "/" + as); };
    };
    auto bytes = [](const QString& as, std::function<std::string()> f) {
      return [as, f](const QString& dir) { writeAll(dir + "/" + as, f()); };
    };
    auto plmEdit = [this](const QString& as, std::function<void(json&)> f) {
      return [this, as, f](const QString& dir) { rewritePlm(valid("r20.plm"), dir + "/" + as, f); };
    };
    auto onnxEdit = [this](const QString& as, std::function<void(onnx::ModelProto&)> f) {
      return [this, as, f](const QString& dir) { rewriteOnnx(valid("r20.onnx"), dir + "/" + as, f); };
    };
    auto yaml = [](const QString& as, const std::string& from, const std::string& to) {
      return [as, from, to](const QString& dir) { writeAll(dir + "/" + as, yamlWith(from, to)); };
    };
    auto nothing = [](const QString&) {};

    // --- .plm checkpoints -------------------------------------------------------------------
    add({"plm empty file", bytes("m.plm", [] { return std::string(); }), {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"plm random bytes", bytes("m.plm", [] { return randomBytes(5000, 1); }), {"info", "--model", "@m.plm"}, 1,
         {"m.plm", "not a model file"}});
    add({"plm zip magic then random bytes", bytes("m.plm", [] { return "PK\x03\x04" + randomBytes(5000, 2); }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"plm truncated to half", bytes("m.plm", [this] { const auto s = readAll(valid("r20.plm")); return s.substr(0, s.size() / 2); }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"plm truncated by 10 bytes", bytes("m.plm", [this] { const auto s = readAll(valid("r20.plm")); return s.substr(0, s.size() - 10); }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"plm one byte flipped in the middle", bytes("m.plm", [this] {
           auto s = readAll(valid("r20.plm"));
           s[s.size() / 2] = static_cast<char>(s[s.size() / 2] ^ 0x40);
           return s;
         }),
         {"infer", "--model", "@m.plm", "--input", "@x.npy", "--output", "@y.npy"}, 1, {"m.plm", "corrupt", "CRC"}, "y.npy"});
    add({"plm manifest not JSON", [this](const QString& dir) {
           rewritePlm(valid("r20.plm"), dir + "/m.plm", [](json&) {},
                      [](std::map<std::string, std::string>& r) { r["prunelab.json"] = "{not json"; });
         },
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "manifest"}});
    add({"plm from a newer PruneLab", plmEdit("m.plm", [](json& m) { m["version"] = 99; }), {"info", "--model", "@m.plm"}, 1,
         {"m.plm", "newer"}});
    add({"plm conv stride 0", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["attrs"]["stride"] = {{"ints", {0, 0}}}; }),
         {"infer", "--model", "@m.plm", "--input", "@x.npy", "--output", "@y.npy"}, 1, {"m.plm", "stride", "[0, 0]"}, "y.npy"});
    add({"plm conv negative padding", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["attrs"]["padding"] = {{"ints", {-5, -5}}}; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "padding"}});
    add({"plm conv stride with one value", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["attrs"]["stride"] = {{"ints", {2}}}; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "stride"}});
    add({"plm conv groups 0", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["attrs"]["groups"] = {{"i", 0}}; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "groups"}});
    add({"plm negative tensor dim", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["tensors"][0]["shape"] = {-16, 3, 3, 3}; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "negative"}});
    add({"plm huge tensor dims", plmEdit("m.plm", [](json& m) {
           firstNode(m, "Conv")["tensors"][0]["shape"] = {1000000000000LL, 1000000000000LL};
         }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "too large"}});
    add({"plm shape lies about record size", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["tensors"][0]["shape"] = {16, 3, 3, 4}; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "bytes"}});
    add({"plm unknown dtype", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["tensors"][0]["dtype"] = "Quaternion"; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "dtype"}});
    add({"plm NaN weights warn", [this](const QString& dir) {
           rewritePlm(valid("r20.plm"), dir + "/m.plm", [](json&) {}, [](std::map<std::string, std::string>& r) {
             // t/0 is the stem conv's weight (float32): make three of its values NaN/Inf.
             std::string& t = r.at("t/0");
             const float bad[3] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                                   std::numeric_limits<float>::quiet_NaN()};
             std::memcpy(t.data(), bad, sizeof bad);
           });
         },
         {"info", "--model", "@m.plm"}, 0, {"warning", "m.plm", "NaN/Inf", "conv1.weight: 3"}});
    add({"plm NaN weights warn as --weights", [this](const QString& dir) {
           rewritePlm(valid("r20.plm"), dir + "/w.plm", [](json&) {}, [](std::map<std::string, std::string>& r) {
             std::string& t = r.at("t/0");
             const float bad = std::numeric_limits<float>::quiet_NaN();
             std::memcpy(t.data(), &bad, sizeof bad);
           });
         },
         {"info", "--model", "resnet20", "--weights", "@w.plm"}, 0, {"warning", "w.plm", "NaN/Inf"}});
    add({"plm missing tensor record", [this](const QString& dir) {
           rewritePlm(valid("r20.plm"), dir + "/m.plm", [](json&) {}, [](std::map<std::string, std::string>& r) { r.erase("t/3"); });
         },
         {"info", "--model", "@m.plm"}, 1, {"m.plm", "t/3"}});
    add({"plm zip without manifest", [this](const QString& dir) {
           rewritePlm(valid("r20.plm"), dir + "/m.plm", [](json&) {},
                      [](std::map<std::string, std::string>& r) { r.erase("prunelab.json"); });
         },
         {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"plm wrong format field", plmEdit("m.plm", [](json& m) { m["format"] = "something-else"; }), {"info", "--model", "@m.plm"}, 1,
         {"m.plm", "not a PruneLab checkpoint"}});
    add({"plm manifest without graph", plmEdit("m.plm", [](json& m) { m.erase("graph"); }), {"info", "--model", "@m.plm"}, 1,
         {"m.plm", "manifest"}});
    add({"plm unknown op", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["op"] = "Teleport"; }), {"info", "--model", "@m.plm"}, 1,
         {"m.plm", "Teleport"}});
    add({"plm node reads a value that does not exist", plmEdit("m.plm", [](json& m) { firstNode(m, "Conv")["inputs"] = {99999}; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"plm node reads a later value (cycle)", plmEdit("m.plm", [](json& m) {
           auto& nodes = m["graph"]["nodes"];
           nodes[0]["inputs"] = nodes[nodes.size() - 1]["outputs"];
         }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"plm metadata input lies", plmEdit("m.plm", [](json& m) { m["graph"]["metadata"]["input"] = "3x-1x32"; }),
         {"info", "--model", "@m.plm"}, 1, {"m.plm"}});
    add({"resume from a corrupt last.plm", [this](const QString& dir) {
           QDir().mkpath(dir + "/run");
           auto s = readAll(valid("r20.plm"));
           s[s.size() / 2] = static_cast<char>(s[s.size() / 2] ^ 0x01);
           writeAll(dir + "/run/last.plm", s);
         },
         {"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "2", "--train-limit", "64", "--out", "@run",
          "--resume"},
         1, {"last.plm", "corrupt"}, "run/last.plm"});
    add({"weights random bytes", bytes("w.pt", [] { return randomBytes(3000, 3); }),
         {"info", "--model", "resnet20", "--weights", "@w.pt"}, 1, {"w.pt"}});
    add({"weights truncated plm", bytes("w.plm", [this] { const auto s = readAll(valid("r20.plm")); return s.substr(0, 4096); }),
         {"info", "--model", "resnet20", "--weights", "@w.plm"}, 1, {"w.plm"}});
    add({"weights of another model", copyValid("r20.plm", "w.plm"), {"info", "--model", "resnet56", "--weights", "@w.plm"}, 1,
         {"w.plm"}});

    // --- ONNX ---------------------------------------------------------------------------------
    add({"onnx empty file", bytes("m.onnx", [] { return std::string(); }), {"info", "--model", "@m.onnx"}, 1, {"m.onnx"}});
    add({"onnx random bytes", bytes("m.onnx", [] { return randomBytes(4000, 4); }), {"info", "--model", "@m.onnx"}, 1,
         {"m.onnx", "not a valid ONNX model"}});
    add({"onnx truncated", bytes("m.onnx", [this] { const auto s = readAll(valid("r20.onnx")); return s.substr(0, s.size() / 3); }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx"}});
    add({"onnx missing file", nothing, {"info", "--model", "@missing.onnx"}, 1, {"missing.onnx", "no such file"}});
    add({"onnx conv stride 0", onnxEdit("m.onnx", [](onnx::ModelProto& m) { setInts(firstOnnxNode(m, "Conv"), "strides", {0, 0}); }),
         {"infer", "--model", "@m.onnx", "--input", "@x.npy", "--output", "@y.npy"}, 1, {"m.onnx", "stride", "[0, 0]"}, "y.npy"});
    add({"onnx conv stride 0 untagged", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           for (auto& n : *m.mutable_graph()->mutable_node()) n.clear_doc_string();
           setInts(firstOnnxNode(m, "Conv"), "strides", {0, 0});
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "stride"}});
    add({"onnx conv negative pads", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           for (auto& n : *m.mutable_graph()->mutable_node()) n.clear_doc_string();
           setInts(firstOnnxNode(m, "Conv"), "pads", {-3, -3, -3, -3});
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "padding"}});
    add({"onnx initializer negative dim", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           auto* t = m.mutable_graph()->mutable_initializer(0);
           t->set_dims(0, -t->dims(0));
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "negative"}});
    add({"onnx initializer huge dims", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           auto* t = m.mutable_graph()->mutable_initializer(0);
           t->clear_dims();
           t->add_dims(4000000000LL);
           t->add_dims(4000000000LL);
           t->add_dims(4000000000LL);
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "too large"}});
    add({"onnx initializer data shorter than shape", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           auto* t = m.mutable_graph()->mutable_initializer(0);
           t->set_dims(0, t->dims(0) * 2);
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "bytes"}});
    add({"onnx unsupported op", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           for (auto& n : *m.mutable_graph()->mutable_node()) n.clear_doc_string();
           firstOnnxNode(m, "Relu").set_op_type("FancyNewOp");
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "FancyNewOp"}});
    add({"onnx malformed tag", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           m.mutable_graph()->mutable_node(0)->set_doc_string("prunelab:{broken");
         }),
         {"info", "--model", "@m.onnx"}, 0, {"warning", "m.onnx", "tag"}});
    add({"onnx edited after export: tags ignored", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           setInts(firstOnnxNode(m, "Conv"), "strides", {2, 2});  // was 1: the output map halves
         }),
         {"info", "--model", "@m.onnx", "--json"}, 0, {"warning", "m.onnx", "changed after PruneLab exported it"}});

    add({"onnx node reads an unknown value", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           for (auto& n : *m.mutable_graph()->mutable_node()) n.clear_doc_string();
           firstOnnxNode(m, "Relu").set_input(0, "nowhere");
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "nowhere"}});
    add({"onnx opset 5", onnxEdit("m.onnx", [](onnx::ModelProto& m) { m.mutable_opset_import(0)->set_version(5); }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "opset 5"}});
    add({"onnx external data", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           m.mutable_graph()->mutable_initializer(0)->set_data_location(onnx::TensorProto::EXTERNAL);
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "external data"}});
    add({"onnx without inputs", onnxEdit("m.onnx", [](onnx::ModelProto& m) { m.mutable_graph()->clear_input(); }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx"}});
    add({"onnx dynamic spatial dim", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           auto* d = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2);
           d->set_dim_param("height");
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx", "dynamic"}});
    add({"onnx input dim 1e12", onnxEdit("m.onnx", [](onnx::ModelProto& m) {
           m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_value(
               1000000000000LL);
         }),
         {"info", "--model", "@m.onnx"}, 1, {"m.onnx"}});

    // --- .npy inputs ----------------------------------------------------------------------------
    const QStringList inferNpy = {"infer", "--model", "@good.plm", "--input", "@in.npy", "--output", "@y.npy"};
    auto withGood = [this](std::function<std::string()> f) {
      return [this, f](const QString& dir) {
        QFile::copy(valid("r20.plm"), dir + "/good.plm");
        writeAll(dir + "/in.npy", f());
      };
    };
    add({"npy empty file", withGood([] { return std::string(); }), inferNpy, 1, {"in.npy"}, "y.npy"});
    add({"npy magic only", withGood([] { return std::string("\x93NUMPY\x01\x00", 8); }), inferNpy, 1, {"in.npy"}, "y.npy"});
    add({"npy integer data", withGood([] { return npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 3, 32, 32), }", 24576); }),
         inferNpy, 1, {"in.npy", "float"}, "y.npy"});
    add({"npy bad magic", withGood([] { return std::string("NOTNUMPY") + randomBytes(200, 5); }), inferNpy, 1,
         {"in.npy", "not a .npy file"}, "y.npy"});
    add({"npy truncated data", withGood([] { return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 32, 32), }", 100); }),
         inferNpy, 1, {"in.npy", "truncated"}, "y.npy"});
    add({"npy negative dim", withGood([] { return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -3, 32, 32), }", 12288); }),
         inferNpy, 1, {"in.npy", "negative"}, "y.npy"});
    add({"npy huge dims", withGood([] {
           return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 1000000), }", 64);
         }),
         inferNpy, 1, {"in.npy", "too large"}, "y.npy"});
    add({"npy overflowing dim", withGood([] {
           return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 3), }", 64);
         }),
         inferNpy, 1, {"in.npy", "99999999999999999999999"}, "y.npy"});
    add({"npy lying header length", withGood([] {
           std::string s = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 32, 32), }", 12288);
           s[8] = '\xff';
           s[9] = '\xff';
           return s.substr(0, 300);
         }),
         inferNpy, 1, {"in.npy"}, "y.npy"});
    add({"npy unsupported dtype", withGood([] { return npy("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", 32); }),
         inferNpy, 1, {"in.npy", "dtype"}, "y.npy"});
    add({"npy fortran order", withGood([] { return npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 32, 32), }", 12288); }),
         inferNpy, 1, {"in.npy", "Fortran"}, "y.npy"});
    add({"npy wrong channels for the model", withGood([] { return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 5, 32, 32), }", 20480); }),
         inferNpy, 1, {"channels"}, "y.npy"});

    // --- model YAML -----------------------------------------------------------------------------
    add({"yaml conv stride 0", yaml("m.yaml", "[128, 3, 2]] # 1", "[128, 3, 0]] # 1"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "model.1", "stride 0"}});
    add({"yaml width -0.25", yaml("m.yaml", "width_multiple: 0.25", "width_multiple: -0.25"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "width multiple"}});
    add({"yaml width 1e6", yaml("m.yaml", "width_multiple: 0.25", "width_multiple: 1e6"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "width multiple"}});
    add({"yaml width nan", yaml("m.yaml", "width_multiple: 0.25", "width_multiple: .nan"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "width multiple"}});
    add({"yaml depth 1e5", yaml("m.yaml", "depth_multiple: 0.33", "depth_multiple: 1e5"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "depth multiple"}});
    add({"yaml repeats 1e9", yaml("m.yaml", "[-1, 3, C3, [128]]", "[-1, 1000000000, C3, [128]]"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "layer 2", "1000000000"}});
    add({"yaml repeats not a number", yaml("m.yaml", "[-1, 3, C3, [128]]", "[-1, lots, C3, [128]]"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "layer 2"}});
    add({"yaml channels 1e9", yaml("m.yaml", "[128, 3, 2]] # 1", "[1000000000, 3, 2]] # 1"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "model.1", "channels"}});
    add({"yaml negative channels", yaml("m.yaml", "[128, 3, 2]] # 1", "[-128, 3, 2]] # 1"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "model.1", "channels"}});
    add({"yaml kernel 0", yaml("m.yaml", "[128, 3, 2]] # 1", "[128, 0, 2]] # 1"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "model.1", "kernel"}});
    add({"yaml from out of range", yaml("m.yaml", "[[-1, 6], 1, Concat, [1]]", "[[-1, 60], 1, Concat, [1]]"),
         {"info", "--model", "@m.yaml"}, 1, {"m.yaml", "out of range"}});
    add({"yaml unknown module", yaml("m.yaml", "SPPF, [1024, 5]]", "Transformer, [1024, 5]]"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "unsupported module 'Transformer'"}});
    add({"yaml negative nc", yaml("m.yaml", "nc: 80", "nc: -3"), {"info", "--model", "@m.yaml"}, 1, {"m.yaml", "nc -3"}});
    add({"yaml empty file", bytes("m.yaml", [] { return std::string(); }), {"info", "--model", "@m.yaml"}, 1, {"m.yaml"}});
    add({"yaml upsample scale -2", yaml("m.yaml", "[None, 2, nearest]", "[None, -2, nearest]"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "scale"}});
    add({"yaml SPPF kernel 0", yaml("m.yaml", "SPPF, [1024, 5]]", "SPPF, [1024, 0]]"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "kernel"}});
    add({"yaml layer not a list", yaml("m.yaml", "[-1, 1, Conv, [128, 3, 2]] # 1", "{a: b} # 1"), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "layer 1"}});
    add({"yaml random bytes", bytes("m.yaml", [] { return randomBytes(2000, 6); }), {"info", "--model", "@m.yaml"}, 1, {"m.yaml"}});
    add({"yaml not a model", bytes("m.yaml", [] { return std::string("just: [a, map]\n"); }), {"info", "--model", "@m.yaml"}, 1,
         {"m.yaml", "not a YOLO model YAML"}});

    // --- detection data -------------------------------------------------------------------------
    auto detData = [this](std::function<void(const QString&)> spoil) {
      return [this, spoil](const QString& dir) {
        QDir().mkpath(dir + "/det");
        QProcess cp;
        cp.start("cp", {"-r", valid("det") + "/.", dir + "/det"});
        cp.waitForFinished();
        spoil(dir + "/det");
      };
    };
    auto allFiles = [](const QString& d, const QString& filter) {
      QStringList r;
      for (const QString& f : QDir(d).entryList({filter}, QDir::Files, QDir::Name)) r << d + "/" + f;
      return r;
    };
    const QStringList trainDet = {"train", "--model", "yolov8n", "--data", "@det/data.yaml", "--epochs", "1", "--batch", "4",
                                  "--imgsz", "64", "--out", "@run"};
    add({"labels class out of range in every file", detData([allFiles](const QString& d) {
           for (const QString& f : allFiles(d + "/labels/train", "*.txt")) writeAll(f, "99 0.5 0.5 0.2 0.2\n");
         }),
         trainDet, 1, {"out of range"}});
    add({"label file with 200k boxes", detData([allFiles](const QString& d) {
           std::string flood;
           for (int i = 0; i < 200000; ++i) flood += "0 " + std::to_string(0.1 + 0.8 * i / 200000.0) + " 0.5 0.1 0.1\n";
           for (const QString& f : allFiles(d + "/labels/train", "*.txt")) writeAll(f, flood);
         }),
         trainDet, 1, {"more than 5000 objects"}});
    add({"images that are not images", detData([allFiles](const QString& d) {
           for (const QString& f : allFiles(d + "/images/train", "*.jpg")) writeAll(f, "this is not a JPEG");
         }),
         trainDet, 1, {".jpg"}});
    add({"data.yaml random bytes", detData([](const QString& d) { writeAll(d + "/data.yaml", randomBytes(500, 7)); }), trainDet, 1,
         {"data.yaml"}});
    add({"data.yaml names missing", detData([](const QString& d) { writeAll(d + "/data.yaml", "train: images/train\nval: images/val\n"); }),
         trainDet, 1, {"data.yaml", "names"}});
    add({"data.yaml train path missing", detData([](const QString& d) {
           writeAll(d + "/data.yaml", "path: .\ntrain: nowhere/train\nval: images/val\nnames: [a]\n");
         }),
         trainDet, 1, {"nowhere"}});

    // --- bad command-line values ----------------------------------------------------------------
    const QStringList prune = {"prune", "--model", "resnet20", "--criterion", "l1", "--out", "@out.plm"};
    auto guardOut = [](const QString& dir) { writeAll(dir + "/out.plm", "precious existing output"); };
    add({"--percent 1.5", guardOut, prune + QStringList{"--percent", "1.5"}, 1, {"--percent"}, "out.plm"});
    add({"--percent 1", guardOut, prune + QStringList{"--percent", "1"}, 1, {"--percent"}, "out.plm"});
    // 'nan' is not a number: CLI11's conversion refuses it, a usage error (README: exit 2).
    add({"--percent nan (usage)", guardOut, prune + QStringList{"--percent", "nan"}, 2, {"--percent", "nan"}, "out.plm"});
    add({"--percent -0.2", guardOut, prune + QStringList{"--percent=-0.2"}, 1, {"--percent"}, "out.plm"});
    add({"--round-to 0", guardOut, prune + QStringList{"--percent", "0.3", "--round-to", "0"}, 1, {"--round-to"}, "out.plm"});
    add({"--min-channels 0", guardOut, prune + QStringList{"--percent", "0.3", "--min-channels", "0"}, 1, {"--min-channels"}, "out.plm"});
    add({"--steps 100000", guardOut, prune + QStringList{"--percent", "0.3", "--steps", "100000"}, 1, {"--steps"}, "out.plm"});
    add({"--amount nan", guardOut, prune + QStringList{"--layer", "conv1", "--amount", "nan"}, 1, {"--amount"}, "out.plm"});
    add({"--criterion unknown", guardOut, QStringList{"prune", "--model", "resnet20", "--criterion", "vibes", "--percent", "0.3",
                                                      "--out", "@out.plm"}, 1, {"vibes"}, "out.plm"});
    add({"ratios with a NaN", [guardOut](const QString& dir) { guardOut(dir); writeAll(dir + "/r.yaml", "layer1: .nan\n"); },
         prune + QStringList{"--ratios", "@r.yaml"}, 1, {"layer1"}, "out.plm"});
    add({"ratios pattern matching nothing", [guardOut](const QString& dir) { guardOut(dir); writeAll(dir + "/r.yaml", "nosuchlayer*: 0.5\n"); },
         prune + QStringList{"--ratios", "@r.yaml"}, 1, {"nosuchlayer"}, "out.plm"});
    add({"ratios random bytes", [guardOut](const QString& dir) { guardOut(dir); writeAll(dir + "/r.yaml", randomBytes(300, 8)); },
         prune + QStringList{"--ratios", "@r.yaml"}, 1, {"r.yaml"}, "out.plm"});
    add({"--protect matching nothing", guardOut, prune + QStringList{"--percent", "0.3", "--protect", "nosuch*"}, 1, {"nosuch"}, "out.plm"});
    add({"--num-classes -5", nothing, {"info", "--model", "resnet20", "--num-classes=-5"}, 1, {"--num-classes", "-5"}});
    add({"--num-classes 0", nothing, {"info", "--model", "resnet20", "--num-classes", "0"}, 1, {"--num-classes"}});
    add({"--threads 100000", nothing, {"info", "--model", "resnet20", "--threads", "100000"}, 1, {"--threads", "100000"}});
    add({"--threads -1", nothing, {"info", "--model", "resnet20", "--threads=-1"}, 1, {"--threads"}});
    add({"--input with a 1e12 dim", nothing, {"info", "--model", "resnet20", "--input", "3x1000000000000x32"}, 1,
         {"3x1000000000000x32", "larger than"}});
    add({"--input 0x32x32", nothing, {"info", "--model", "resnet20", "--input", "0x32x32"}, 1, {"0x32x32"}});
    add({"--input abc", nothing, {"info", "--model", "resnet20", "--input", "abc"}, 1, {"abc"}});
    add({"--input wrong channels", nothing, {"info", "--model", "resnet20", "--input", "5x32x32"}, 1, {"channels"}});
    add({"unknown model", nothing, {"info", "--model", "resnet9000"}, 1, {"resnet9000"}});
    const QStringList trainCls = {"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "1", "--out", "@run"};
    add({"--batch 0", nothing, trainCls + QStringList{"--batch", "0"}, 1, {"--batch"}});
    add({"--batch -4", nothing, trainCls + QStringList{"--batch=-4"}, 1, {"--batch"}});
    add({"--lr nan", nothing, trainCls + QStringList{"--lr", "nan"}, 1, {"--lr"}});
    add({"--lr -1", nothing, trainCls + QStringList{"--lr=-1"}, 1, {"--lr"}});
    add({"--sr nan", nothing, trainCls + QStringList{"--sr", "nan"}, 1, {"--sr"}});
    add({"--epochs 0", nothing, trainCls + QStringList{"--epochs", "0"}, 1, {"--epochs"}});
    add({"--train-limit 0", nothing, trainCls + QStringList{"--train-limit", "0"}, 1, {"--train-limit"}});
    add({"--val-limit -1", nothing, trainCls + QStringList{"--val-limit=-1"}, 1, {"--val-limit"}});
    add({"--workers 100000", nothing, trainCls + QStringList{"--workers", "100000"}, 1, {"--workers"}});
    add({"--batch not a number (usage)", nothing, trainCls + QStringList{"--batch", "many"}, 2, {"--batch"}});
    add({"unknown option (usage)", nothing, {"info", "--model", "resnet20", "--frobnicate"}, 2, {"--frobnicate"}});
    add({"unknown command (usage)", nothing, {"frobnicate"}, 2, {"frobnicate"}});
    add({"--data missing directory", nothing, {"train", "--model", "resnet20", "--data", "@nowhere", "--epochs", "1", "--out", "@run"}, 1,
         {"nowhere"}});
    add({"--opset 99", nothing, {"export", "--model", "resnet20", "--format", "onnx", "--opset", "99", "--out", "@o.onnx"}, 1, {"opset"}});
    add({"--format unknown", nothing, {"export", "--model", "resnet20", "--format", "gif", "--out", "@o.gif"}, 1, {"--format", "gif"}});

    add({"--weights missing file", nothing, {"info", "--model", "resnet20", "--weights", "@nope.pt"}, 1, {"nope.pt"}});
    add({"--ratios missing file", guardOut, prune + QStringList{"--ratios", "@nope.yaml"}, 1, {"nope.yaml"}, "out.plm"});
    add({"--calib-batches 0", guardOut, {"prune", "--model", "resnet20", "--criterion", "taylor", "--percent", "0.3", "--calib",
                                         "fashion-mnist", "--calib-batches", "0", "--out", "@out.plm"}, 1, {"--calib-batches"}, "out.plm"});
    add({"--device cuda:3 without CUDA", nothing, {"infer", "--model", "resnet20", "--input", "@x.npy", "--output", "@y.npy",
                                                   "--device", "cuda:3"}, 1, {"cuda"}, "y.npy"});
    add({"infer --output and --output-dir both", nothing, {"infer", "--model", "resnet20", "--input", "@x.npy", "--output", "@y.npy",
                                                           "--output-dir", "@ydir"}, 1, {"--output"}, "y.npy"});
    add({"export --input 3x0x32", nothing, {"export", "--model", "resnet20", "--format", "onnx", "--input", "3x0x32", "--out", "@o.onnx"},
         1, {"3x0x32"}, "o.onnx"});
    add({"train into an existing run without --resume", [this](const QString& dir) {
           QDir().mkpath(dir + "/run");
           QFile::copy(valid("r20.plm"), dir + "/run/last.plm");
         },
         trainCls, 1, {"run", "--resume"}, "run/last.plm"});

    // --- outputs that cannot or must not be replaced ------------------------------------------
    add({"--out in a missing directory for infer", [this](const QString& dir) { QFile::copy(valid("x.npy"), dir + "/in.npy"); },
         {"infer", "--model", "resnet20", "--input", "@in.npy", "--output", "@no/such/dir/y.npy"}, 1, {"y.npy"}});
    add({"--out is a directory", [](const QString& dir) { QDir().mkpath(dir + "/outdir"); },
         {"export", "--model", "resnet20", "--format", "native", "--out", "@outdir"}, 1, {"outdir", "directory"}});
    add({"--out is a FIFO", [](const QString& dir) { ::mkfifo((dir + "/fifo.plm").toLocal8Bit().constData(), 0644); },
         {"export", "--model", "resnet20", "--format", "native", "--out", "@fifo.plm"}, 1, {"fifo.plm", "FIFO"}});
    // A device node of its own (never /dev/null: a CLI without the check renames a regular
    // file over it, for the whole machine). Without the right to mknod, a FIFO stands in.
    add({"--out is a device", [](const QString& dir) {
           const QByteArray dev = (dir + "/null.plm").toLocal8Bit();
           if (::mknod(dev.constData(), S_IFCHR | 0666, makedev(1, 3)) != 0) ::mkfifo(dev.constData(), 0644);
         },
         {"export", "--model", "resnet20", "--format", "native", "--out", "@null.plm"}, 1, {"null.plm", "regular files only"}});
    add({"--out on a full disk (native)", [](const QString& dir) { writeAll(dir + "/out.plm", "precious existing output"); },
         {"export", "--model", "resnet20", "--format", "native", "--out", "@out.plm"}, 1, {"out.plm", "write failed"}, "out.plm",
         Limits{64 * 1024}});
    add({"--out on a full disk (onnx)", [](const QString& dir) { writeAll(dir + "/out.onnx", "precious existing output"); },
         {"export", "--model", "resnet20", "--format", "onnx", "--out", "@out.onnx"}, 1, {"out.onnx", "write failed"}, "out.onnx",
         Limits{64 * 1024}});
    add({"--out on a full disk (prune)", [](const QString& dir) { writeAll(dir + "/out.plm", "precious existing output"); },
         {"prune", "--model", "resnet20", "--criterion", "l1", "--percent", "0.3", "--out", "@out.plm"}, 1,
         {"out.plm", "write failed"}, "out.plm", Limits{64 * 1024}});

    addRoundTwoCases([this](Case c) { add(std::move(c)); }, m_valid);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_tmp.isValid());
    // Orphans of the CLIs run here (the workers of a --nproc launcher that gave up) become
    // this process's children, so each row can count and stop what its run left behind.
    QVERIFY(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    m_valid = m_tmp.path() + "/valid";
    QDir().mkpath(m_valid);
    // The valid files every bad one starts from, written by the CLI itself.
    const Outcome plm = run({"export", "--model", "resnet20", "--format", "native", "--out", valid("r20.plm")}, m_valid);
    QVERIFY2(plm.code == 0, plm.err.c_str());
    const Outcome onnx = run({"export", "--model", "resnet20", "--format", "onnx", "--out", valid("r20.onnx")}, m_valid);
    QVERIFY2(onnx.code == 0, onnx.err.c_str());
    const Outcome det = run({"make-dataset", "fashion-det", "--out", valid("det"), "--train", "8", "--val", "4", "--size", "64"},
                            m_valid);
    QVERIFY2(det.code == 0, det.err.c_str());
    prunelab::writeNpy(valid("x.npy").toStdString(), at::randn({1, 3, 32, 32}));
    // The valid files are valid: the CLI reads each.
    for (const QString& m : {valid("r20.plm"), valid("r20.onnx")}) {
      const Outcome o = run({"info", "--model", m}, m_valid);
      QVERIFY2(o.code == 0 && o.err.find("warning") == std::string::npos, (m.toStdString() + ": " + o.err).c_str());
    }
    buildCatalogue();
  }

  void catalogueHasEnoughCases() { QVERIFY2(m_cases.size() >= 45, std::to_string(m_cases.size()).c_str()); }

  void catalogue_data() {
    QTest::addColumn<int>("index");
    if (m_cases.empty()) buildCatalogue();
    for (size_t i = 0; i < m_cases.size(); ++i) QTest::newRow(m_cases[i].name.toUtf8().constData()) << static_cast<int>(i);
  }

  void catalogue() {
    QFETCH(int, index);
    const Case& c = m_cases.at(static_cast<size_t>(index));
    const QString dir = m_tmp.path() + "/case" + QString::number(index);
    QVERIFY(QDir().mkpath(dir));
    QFile::copy(valid("x.npy"), dir + "/x.npy");
    c.make(dir);
    QStringList args;
    for (const QString& a : c.args) args << (a.startsWith('@') ? dir + "/" + a.mid(1) : a);
    const QString guarded = c.guarded.isEmpty() ? QString() : dir + "/" + c.guarded;
    if (!guarded.isEmpty() && !QFile::exists(guarded)) writeAll(guarded, "an existing output file\n");
    const QByteArray before = guarded.isEmpty() ? QByteArray() : sha256(guarded);

    if (c.limits.processLimit > 0) {  // the unprivileged user the row runs as works in its folder
      const auto all = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadOther | QFile::WriteOther |
                       QFile::ExeOther;
      QFile::setPermissions(m_tmp.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ExeOther);
      QFile::setPermissions(dir, all);
    }
    const Outcome o = run(args, dir, c.limits);
    const int leftover = stopLeftoverProcesses();
    const std::string all = "exit " + std::to_string(o.code) + "\nstderr:\n" + o.err;
    QVERIFY2(o.finished, "timed out (a hang)");
    QVERIFY2(leftover == 0, (std::to_string(leftover) + " processes it started were left running\n" + all).c_str());
    QVERIFY2(!o.crashed, ("killed by a signal\n" + all).c_str());
    QVERIFY2(o.err.find("terminate called") == std::string::npos, all.c_str());
    QVERIFY2(o.err.find("Exception raised from") == std::string::npos, all.c_str());
    QVERIFY2(o.err.find("internal error:") == std::string::npos, all.c_str());  // exit 3's message
    QVERIFY2(o.code == c.code, ("expected exit " + std::to_string(c.code) + ", got " + all).c_str());
    for (const std::string& s : c.mustSay)
      QVERIFY2(o.err.find(s) != std::string::npos, ("the message does not say '" + s + "'\n" + all).c_str());
    if (!guarded.isEmpty()) QVERIFY2(sha256(guarded) == before, "the existing output file was changed");
    const QStringList temps = QDir(dir).entryList({"*.tmp.*"}, QDir::Files);
    QVERIFY2(temps.isEmpty(), ("temporary files left: " + temps.join(", ")).toUtf8().constData());
  }

  // A symlink given as the output is written through: its target gets the file, the link
  // stays a link (replace-by-rename used to replace the link by a regular file).
  void symlinkOutputIsWrittenThrough() {
    const QString dir = m_tmp.path() + "/symlink";
    QDir().mkpath(dir + "/real");
    writeAll(dir + "/real/target.plm", "old");
    QVERIFY(QFile::link(dir + "/real/target.plm", dir + "/link.plm"));
    const Outcome o = run({"export", "--model", "resnet20", "--format", "native", "--out", dir + "/link.plm"}, dir);
    QVERIFY2(o.code == 0, o.err.c_str());
    QVERIFY(QFileInfo(dir + "/link.plm").isSymLink());
    QVERIFY(readAll(dir + "/real/target.plm") != "old");
    const Outcome info = run({"info", "--model", dir + "/link.plm"}, dir);
    QVERIFY2(info.code == 0, info.err.c_str());
    QVERIFY(QDir(dir + "/real").entryList({"*.tmp.*"}, QDir::Files).isEmpty());
  }

  // The edited ONNX file is imported as what it now is: with the first conv's stride
  // changed to 2 its output map is 16x16, which the stale tag (stride 1) would hide.
  void editedOnnxIsImportedAsEdited() {
    const QString dir = m_tmp.path() + "/edited";
    QDir().mkpath(dir);
    rewriteOnnx(valid("r20.onnx"), dir + "/m.onnx",
                [](onnx::ModelProto& m) { setInts(firstOnnxNode(m, "Conv"), "strides", {2, 2}); });
    const Outcome edited = run({"info", "--model", dir + "/m.onnx", "--json"}, dir);
    QVERIFY2(edited.code == 0, edited.err.c_str());
    const Outcome original = run({"info", "--model", valid("r20.onnx"), "--json"}, dir);
    QVERIFY2(original.code == 0, original.err.c_str());
    const json a = json::parse(edited.out), b = json::parse(original.out);
    QVERIFY2(a.at("macs").get<int64_t>() < b.at("macs").get<int64_t>() / 2,
             (std::to_string(a.at("macs").get<int64_t>()) + " vs " + std::to_string(b.at("macs").get<int64_t>())).c_str());
    // An unedited export keeps using its tags, without a warning.
    QVERIFY2(original.err.find("warning") == std::string::npos, original.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestMalformedInputs)
#include "test_malformed_inputs.moc"
