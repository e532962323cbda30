#include "io/pickle_reader.h"

#include <cstring>
#include <map>
#include <unordered_map>

#include "util/error.h"

namespace prunelab {

std::string PyValue::describe() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return text;
    case Kind::Object: return (callable ? callable->describe() : std::string("?")) + "(...)";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

namespace {

// Moves the direct children of `v` into `out` (leaving `v` without any).
void takeChildren(PyValue& v, std::vector<PyRef>& out) {
  for (auto& i : v.items) out.push_back(std::move(i));
  for (auto& [k, val] : v.entries) {
    out.push_back(std::move(k));
    out.push_back(std::move(val));
  }
  v.items.clear();
  v.entries.clear();
  for (PyRef* r : {&v.callable, &v.args, &v.state}) out.push_back(std::move(*r));
}

}  // namespace

PyValue::~PyValue() {
  std::vector<PyRef> pending;
  takeChildren(*this, pending);
  while (!pending.empty()) {
    PyRef v = std::move(pending.back());
    pending.pop_back();
    // The last owner: empty it first, so that destroying it recurses no further.
    if (v && v.use_count() == 1) takeChildren(*v, pending);
  }
}

namespace {

PyRef make(PyValue::Kind k) {
  auto v = std::make_shared<PyValue>();
  v->kind = k;
  return v;
}

class Unpickler {
 public:
  Unpickler(const std::string& data, const PickleHooks& hooks, const std::string& subject)
      : m_data(data), m_hooks(hooks), m_subject(subject) {}

  // Every value this parse made or received from a hook, for the checks below.
  std::vector<PyRef> m_all;
  PyRef keep(PyRef v) {
    if (v) m_all.push_back(v);
    return v;
  }
  PyRef make(PyValue::Kind k) { return keep(prunelab::make(k)); }

  // Refuses a value graph with a cycle (an object whose state, a list or a dict holds
  // itself, directly or not); an iterative depth-first search over what was made.
  void checkAcyclic() {
    enum Color { Open = 1, Done = 2 };
    std::unordered_map<const PyValue*, int> color;
    auto children = [](const PyValue* v) {
      std::vector<const PyValue*> c;
      for (const auto& i : v->items) c.push_back(i.get());
      for (const auto& [k, val] : v->entries) c.push_back(k.get()), c.push_back(val.get());
      for (const PyRef* r : {&v->callable, &v->args, &v->state}) c.push_back(r->get());
      return c;
    };
    for (const PyRef& start : m_all) {
      if (color.count(start.get())) continue;
      std::vector<std::pair<const PyValue*, std::vector<const PyValue*>>> stack;
      color[start.get()] = Open;
      stack.emplace_back(start.get(), children(start.get()));
      while (!stack.empty()) {
        auto& [v, next] = stack.back();
        if (next.empty()) {
          color[v] = Done;
          stack.pop_back();
          continue;
        }
        const PyValue* c = next.back();
        next.pop_back();
        if (!c) continue;
        const auto it = color.find(c);
        if (it != color.end()) {
          if (it->second == Open) fail("a value refers back to itself (reference cycle), which PruneLab does not read");
          continue;
        }
        color[c] = Open;
        stack.emplace_back(c, children(c));
      }
    }
  }
  // After a failed parse: empties every value, so that cycles made so far are freed.
  void releaseAll() {
    std::vector<PyRef> drop;
    for (const PyRef& v : m_all) takeChildren(*v, drop);
    m_stack.clear();
    m_memo.clear();
  }

  PyRef run() {
    while (true) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                            // PROTO
        case 0x95: bytes(8); break;                        // FRAME (length ignored)
        case '.': return pop();                            // STOP
        case '(': m_marks.push_back(m_stack.size()); break; // MARK
        case 'N': push(make(PyValue::Kind::None)); break;
        case 0x88: push(boolean(true)); break;             // NEWTRUE
        case 0x89: push(boolean(false)); break;            // NEWFALSE
        case 'J': push(integer(static_cast<int32_t>(le(4)))); break;  // BININT
        case 'K': push(integer(u8())); break;              // BININT1
        case 'M': push(integer(le(2))); break;             // BININT2
        case 0x8a: push(integer(long1(u8()))); break;      // LONG1
        case 0x8b: push(integer(long1(static_cast<size_t>(le(4))))); break;  // LONG4
        case 'I': push(textInt()); break;                  // INT (protocol 0)
        case 'L': push(textInt()); break;                  // LONG (protocol 0)
        case 'G': push(binFloat()); break;                 // BINFLOAT
        case 'X': push(str(PyValue::Kind::String, le(4))); break;       // BINUNICODE
        case 0x8c: push(str(PyValue::Kind::String, u8())); break;       // SHORT_BINUNICODE
        case 0x8d: push(str(PyValue::Kind::String, le(8))); break;      // BINUNICODE8
        case 'T': push(str(PyValue::Kind::Bytes, le(4))); break;        // BINSTRING
        case 'U': push(str(PyValue::Kind::Bytes, u8())); break;         // SHORT_BINSTRING
        case 'B': push(str(PyValue::Kind::Bytes, le(4))); break;        // BINBYTES
        case 'C': push(str(PyValue::Kind::Bytes, u8())); break;         // SHORT_BINBYTES
        case 0x8e: push(str(PyValue::Kind::Bytes, le(8))); break;       // BINBYTES8
        case ')': push(make(PyValue::Kind::Tuple)); break;              // EMPTY_TUPLE
        case 't': push(tuple(popMark())); break;                        // TUPLE
        case 0x85: push(tuple(popN(1))); break;                         // TUPLE1
        case 0x86: push(tuple(popN(2))); break;                         // TUPLE2
        case 0x87: push(tuple(popN(3))); break;                         // TUPLE3
        case ']': push(make(PyValue::Kind::List)); break;               // EMPTY_LIST
        case 'l': { auto l = make(PyValue::Kind::List); l->items = popMark(); push(l); break; }  // LIST
        case 'a': { auto v = pop(); top(PyValue::Kind::List)->items.push_back(v); break; }       // APPEND
        case 'e': { auto vs = popMark(); auto l = top(PyValue::Kind::List);                     // APPENDS
                    l->items.insert(l->items.end(), vs.begin(), vs.end()); break; }
        case '}': push(make(PyValue::Kind::Dict)); break;               // EMPTY_DICT
        case 'd': { auto d = make(PyValue::Kind::Dict); setItems(d, popMark()); push(d); break; }  // DICT
        case 's': { auto v = pop(); auto k = pop(); setItems(top(PyValue::Kind::Dict), {k, v}); break; }  // SETITEM
        case 'u': { auto kv = popMark(); setItems(top(PyValue::Kind::Dict), kv); break; }         // SETITEMS
        case 0x8f: { auto s = make(PyValue::Kind::List); s->origin = "builtins.set"; push(s); break; }  // EMPTY_SET (as list)
        case 0x90: { auto vs = popMark(); auto s = top(PyValue::Kind::List);                    // ADDITEMS
                     s->items.insert(s->items.end(), vs.begin(), vs.end()); break; }
        case 0x91: { auto s = make(PyValue::Kind::List); s->origin = "builtins.frozenset"; s->items = popMark();  // FROZENSET
                     push(s); break; }
        case 'c': { auto mod = line(); auto name = line(); push(global(mod + "." + name)); break; }  // GLOBAL
        case 0x93: { auto name = pop(); auto mod = pop(); push(global(mod->text + "." + name->text)); break; }  // STACK_GLOBAL
        case 'R': { auto args = pop(); auto fn = pop(); push(reduce(fn, args, false)); break; }  // REDUCE
        case 0x81: { auto args = pop(); auto cls = pop(); push(reduce(cls, args, true)); break; }  // NEWOBJ
        case 'b': { auto st = pop(); build(m_stack.empty() ? nullptr : m_stack.back(), st); break; }  // BUILD
        case 'Q': { auto pid = pop(); push(persistent(pid)); break; }   // BINPERSID
        case 'P': { auto pid = make(PyValue::Kind::String); pid->text = line(); push(persistent(pid)); break; }  // PERSID
        case 'q': m_memo[u8()] = peek(); break;                         // BINPUT
        case 'r': m_memo[le(4)] = peek(); break;                        // LONG_BINPUT
        case 0x94: m_memo[m_memo.size()] = peek(); break;               // MEMOIZE
        case 'h': push(memo(u8())); break;                              // BINGET
        case 'j': push(memo(le(4))); break;                             // LONG_BINGET
        case '0': pop(); break;                                         // POP
        case '1': popMark(); break;                                     // POP_MARK
        case '2': push(peek()); break;                                  // DUP
        default: fail("unsupported pickle opcode 0x" + hex(op) + " at byte " + std::to_string(m_pos - 1));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error(m_subject, "corrupt or unsupported pickle: " + why); }

  uint8_t u8() {
    if (m_pos >= m_data.size()) fail("unexpected end of data");
    return static_cast<uint8_t>(m_data[m_pos++]);
  }
  std::string bytes(uint64_t n) {
    if (n > m_data.size() - m_pos) fail("unexpected end of data");
    std::string s = m_data.substr(m_pos, n);
    m_pos += n;
    return s;
  }
  uint64_t le(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  int64_t long1(size_t n) {
    if (n == 0) return 0;
    if (n > 8) fail("integer too large");
    uint64_t v = le(static_cast<int>(n));
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  std::string line() {
    const size_t end = m_data.find('\n', m_pos);
    if (end == std::string::npos) fail("unterminated text line");
    std::string s = m_data.substr(m_pos, end - m_pos);
    m_pos = end + 1;
    return s;
  }
  static std::string hex(uint8_t v) {
    const char* d = "0123456789abcdef";
    return {d[v >> 4], d[v & 15]};
  }

  PyRef boolean(bool b) { auto v = make(PyValue::Kind::Bool); v->boolean = b; return v; }
  PyRef integer(int64_t i) { auto v = make(PyValue::Kind::Int); v->integer = i; return v; }
  PyRef textInt() {
    std::string s = line();
    if (s == "01") return boolean(true);
    if (s == "00") return boolean(false);
    if (!s.empty() && s.back() == 'L') s.pop_back();
    try { return integer(std::stoll(s)); } catch (...) { fail("bad integer '" + s + "'"); }
  }
  PyRef binFloat() {
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | u8();  // big-endian
    double d;
    std::memcpy(&d, &bits, 8);
    auto v = make(PyValue::Kind::Float);
    v->real = d;
    return v;
  }
  PyRef str(PyValue::Kind k, uint64_t n) { auto v = make(k); v->text = bytes(n); return v; }
  PyRef tuple(std::vector<PyRef> items) { auto v = make(PyValue::Kind::Tuple); v->items = std::move(items); return v; }
  PyRef global(const std::string& name) {
    if (m_hooks.allowGlobal && !m_hooks.allowGlobal(name))
      throw Error(m_subject, "refused: the pickle names '" + name +
                                 "', which is not a class a PyTorch checkpoint needs (nothing in the file was run)");
    auto v = make(PyValue::Kind::Global);
    v->text = name;
    return v;
  }

  void push(PyRef v) { m_stack.push_back(std::move(v)); }
  PyRef pop() {
    if (m_stack.empty() || (!m_marks.empty() && m_stack.size() <= m_marks.back())) fail("stack underflow");
    PyRef v = m_stack.back();
    m_stack.pop_back();
    return v;
  }
  PyRef peek() {
    if (m_stack.empty()) fail("stack underflow");
    return m_stack.back();
  }
  PyRef top(PyValue::Kind k) {
    PyRef v = peek();
    if (v->kind != k) fail("expected a " + make(k)->describe() + " on the stack, found " + v->describe());
    return v;
  }
  std::vector<PyRef> popN(size_t n) {
    // Never below the innermost MARK: that would leave the mark past the stack's end.
    if (m_stack.size() < n || (!m_marks.empty() && m_stack.size() - n < m_marks.back())) fail("stack underflow");
    std::vector<PyRef> r(m_stack.end() - static_cast<long>(n), m_stack.end());
    m_stack.resize(m_stack.size() - n);
    return r;
  }
  std::vector<PyRef> popMark() {
    if (m_marks.empty()) fail("missing MARK");
    const size_t at = m_marks.back();
    m_marks.pop_back();
    if (at > m_stack.size()) fail("stack underflow");
    std::vector<PyRef> r(m_stack.begin() + static_cast<long>(at), m_stack.end());
    m_stack.resize(at);
    return r;
  }
  PyRef memo(uint64_t key) {
    auto it = m_memo.find(key);
    if (it == m_memo.end()) fail("memo key " + std::to_string(key) + " not found");
    return it->second;
  }
  void setItems(const PyRef& dict, const std::vector<PyRef>& kv) {
    if (kv.size() % 2) fail("odd number of dict items");
    for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
  }
  PyRef reduce(const PyRef& fn, const PyRef& args, bool newObj) {
    if (fn->kind == PyValue::Kind::Global && m_hooks.reduce)
      if (PyRef r = m_hooks.reduce(fn->text, args)) return keep(r);
    auto o = make(PyValue::Kind::Object);
    o->callable = fn;
    o->args = args;
    o->newObj = newObj;
    return o;
  }
  void build(const PyRef& target, const PyRef& state) {
    if (!target) fail("BUILD with an empty stack");
    target->state = state;  // e.g. an OrderedDict's _metadata; the caller decides
  }
  PyRef persistent(const PyRef& pid) {
    if (!m_hooks.persistentLoad) fail("persistent ids are not supported here");
    return keep(m_hooks.persistentLoad(pid));
  }

  const std::string& m_data;
  const PickleHooks& m_hooks;
  const std::string& m_subject;
  size_t m_pos = 0;
  std::vector<PyRef> m_stack;
  std::vector<size_t> m_marks;
  std::map<uint64_t, PyRef> m_memo;
};

}  // namespace

PyRef unpickle(const std::string& data, const PickleHooks& hooks, const std::string& subject) {
  Unpickler u(data, hooks, subject);
  try {
    PyRef root = u.run();
    u.checkAcyclic();
    return root;
  } catch (...) {
    u.releaseAll();
    throw;
  }
}

}  // namespace prunelab
