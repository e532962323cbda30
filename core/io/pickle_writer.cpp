#include "io/pickle_writer.h"

#include <ATen/ATen.h>

#include <cstring>
#include <unordered_map>

#include "util/error.h"

namespace prunelab {

namespace {

constexpr int kMaxDepth = 1000;  // far deeper than any module tree; a hostile file's nesting is refused

const char* storageClass(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "FloatStorage";
    case at::kDouble: return "DoubleStorage";
    case at::kHalf: return "HalfStorage";
    case at::kBFloat16: return "BFloat16Storage";
    case at::kLong: return "LongStorage";
    case at::kInt: return "IntStorage";
    case at::kShort: return "ShortStorage";
    case at::kChar: return "CharStorage";
    case at::kByte: return "ByteStorage";
    case at::kBool: return "BoolStorage";
    default: throw Error("pickle writer", std::string("cannot write a tensor of dtype ") + c10::toString(t));
  }
}

class Pickler {
 public:
  explicit Pickler(std::vector<at::Tensor>& storages) : m_storages(storages) {}

  std::string run(const PyRef& root) {
    m_out += "\x80\x02";  // PROTO 2
    write(root, 0);
    m_out += '.';  // STOP
    return std::move(m_out);
  }

 private:
  void op(char c) { m_out += c; }
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) m_out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      op('M');
      le(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      le(static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(v))), 4);
    } else {
      op('\x8a');  // LONG1: 8 bytes, two's complement little-endian
      le(8, 1);
      le(static_cast<uint64_t>(v), 8);
    }
  }
  void real(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    op('G');
    for (int i = 7; i >= 0; --i) m_out += static_cast<char>((bits >> (8 * i)) & 0xff);  // big-endian
  }
  void text(const std::string& s) {
    op('X');  // BINUNICODE
    le(s.size(), 4);
    m_out += s;
  }
  void bytes(const std::string& s) {
    op('B');  // BINBYTES: protocol 3's opcode, which every Python 3 unpickler reads
    le(s.size(), 4);
    m_out += s;
  }
  void global(const std::string& dotted) {
    const size_t dot = dotted.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == dotted.size())
      throw Error("pickle writer", "'" + dotted + "' is not a module.name global");
    op('c');
    m_out += dotted.substr(0, dot) + "\n" + dotted.substr(dot + 1) + "\n";
  }
  // Stores the value on top of the stack under a new memo key for `v`.
  void memoize(const PyValue* v) {
    const uint64_t key = m_memo.size();
    m_memo[v] = key;
    if (key < 256) {
      op('q');
      le(key, 1);
    } else {
      op('r');
      le(key, 4);
    }
  }
  bool fromMemo(const PyValue* v) {
    const auto it = m_memo.find(v);
    if (it == m_memo.end()) return false;
    if (it->second < 256) {
      op('h');
      le(it->second, 1);
    } else {
      op('j');
      le(it->second, 4);
    }
    return true;
  }
  void emptyOrderedDict() {
    global("collections.OrderedDict");
    op(')');
    op('R');
  }

  // _rebuild_tensor_v2(storage, 0, size, stride, requires_grad, OrderedDict()), inside
  // _rebuild_parameter(tensor, requires_grad, OrderedDict()) for a parameter.
  void tensor(const PyRef& v) {
    const at::Tensor t = v->tensor.detach().to(at::kCPU).contiguous();
    const bool parameter = v->origin == "torch.nn.parameter.Parameter";
    if (parameter) {
      global("torch._utils._rebuild_parameter");
      op('(');
    }
    global("torch._utils._rebuild_tensor_v2");
    op('(');
    op('(');  // persistent id ('storage', torch.<T>Storage, key, 'cpu', numel)
    text("storage");
    global(std::string("torch.") + storageClass(t.scalar_type()));
    text(std::to_string(m_storages.size()));
    text("cpu");
    integer(t.numel());
    op('t');
    op('Q');  // BINPERSID
    m_storages.push_back(t);
    integer(0);  // storage offset
    op('(');
    for (int64_t s : t.sizes()) integer(s);
    op('t');
    op('(');
    for (int64_t s : t.strides()) integer(s);
    op('t');
    op(!parameter && v->requiresGrad ? '\x88' : '\x89');
    emptyOrderedDict();  // backward hooks
    op('t');
    op('R');
    if (parameter) {
      op(v->requiresGrad ? '\x88' : '\x89');
      emptyOrderedDict();
      op('t');
      op('R');
    }
  }

  void items(const std::vector<PyRef>& xs, int depth) {
    for (const auto& x : xs) write(x, depth + 1);
  }

  // A tuple; torch.Size((...)) when it came from one.
  void tuple(const PyRef& v, int depth) {
    if (v->origin == "torch.Size") global("torch.Size");
    if (v->items.empty()) {
      op(')');
    } else {
      op('(');
      items(v->items, depth);
      op('t');
    }
    if (v->origin == "torch.Size") {
      op('\x85');  // TUPLE1: torch.Size((...))
      op('R');
    }
    memoize(v.get());
  }

  // A list, or a set / frozenset written as cls([items]).
  void list(const PyRef& v, int depth) {
    if (!v->origin.empty()) {
      global(v->origin);
      op(']');
      if (!v->items.empty()) {
        op('(');
        items(v->items, depth);
        op('e');
      }
      op('\x85');
      op('R');
      memoize(v.get());
      return;
    }
    op(']');
    memoize(v.get());
    if (!v->items.empty()) {
      op('(');
      items(v->items, depth);
      op('e');
    }
  }

  // A dict, defaultdict(factory) or OrderedDict (with its state, e.g. a state_dict's _metadata).
  void dict(const PyRef& v, int depth) {
    if (v->origin == "collections.defaultdict") {
      global("collections.defaultdict");
      if (v->args) write(v->args, depth + 1);
      else op(')');
      op('R');
    } else if (v->origin == "collections.OrderedDict") {
      emptyOrderedDict();
    } else {
      op('}');
    }
    memoize(v.get());
    if (!v->entries.empty()) {
      op('(');
      for (const auto& [k, x] : v->entries) {
        write(k, depth + 1);
        write(x, depth + 1);
      }
      op('u');
    }
    if (v->state && v->origin == "collections.OrderedDict") {
      write(v->state, depth + 1);
      op('b');
    }
  }

  // callable(*args) or cls.__new__(cls, *args), then its state.
  void object(const PyRef& v, int depth) {
    write(v->callable, depth + 1);
    if (v->args) write(v->args, depth + 1);
    else op(')');
    op(v->newObj ? '\x81' : 'R');
    memoize(v.get());
    if (v->state) {
      write(v->state, depth + 1);
      op('b');
    }
  }

  // Values without identity (no memo): true when `v` was one of them.
  bool scalar(const PyRef& v) {
    switch (v->kind) {
      case PyValue::Kind::None: op('N'); return true;
      case PyValue::Kind::Bool: op(v->boolean ? '\x88' : '\x89'); return true;
      case PyValue::Kind::Int: integer(v->integer); return true;
      case PyValue::Kind::Float: real(v->real); return true;
      case PyValue::Kind::String: text(v->text); return true;
      case PyValue::Kind::Bytes: bytes(v->text); return true;
      case PyValue::Kind::Global: global(v->text); return true;
      default: return false;
    }
  }

  void write(const PyRef& v, int depth) {
    if (depth > kMaxDepth) throw Error("pickle writer", "the value tree is nested too deeply to write");
    if (!v) {
      op('N');
      return;
    }
    if (scalar(v) || fromMemo(v.get())) return;
    switch (v->kind) {
      case PyValue::Kind::Tuple: return tuple(v, depth);
      case PyValue::Kind::List: return list(v, depth);
      case PyValue::Kind::Dict: return dict(v, depth);
      case PyValue::Kind::Object: return object(v, depth);
      case PyValue::Kind::Tensor:
        tensor(v);
        memoize(v.get());
        return;
      default: throw Error("pickle writer", "cannot write a " + v->describe());
    }
  }

  std::vector<at::Tensor>& m_storages;
  std::string m_out;
  std::unordered_map<const PyValue*, uint64_t> m_memo;
};

}  // namespace

std::string pickleTorch(const PyRef& root, std::vector<at::Tensor>& storages) {
  return Pickler(storages).run(root);
}

}  // namespace prunelab
