#include "distributed/dist_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef PRUNELAB_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "util/error.h"

namespace prunelab {

namespace {

std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string storeAddress(const DistEnv& e) { return e.masterAddr + ":" + std::to_string(e.masterPort); }

// `member`: a rank's own connection, counted by the server, which waits for all `world`
// of them before going on (a client's waitWorkers only adds it to the count). The
// heartbeat and the failure probe connect as extra, uncounted clients.
c10::intrusive_ptr<c10d::TCPStore> connectStore(const DistEnv& e, bool server, bool member,
                                                std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(e.masterPort);
  o.isServer = server;
  o.numWorkers = member ? c10::optional<std::size_t>(static_cast<std::size_t>(e.world)) : c10::nullopt;
  o.waitWorkers = member;
  o.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(e.masterAddr, o);
}

std::string heartbeatKey(int rank) { return "prunelab/heartbeat/" + std::to_string(rank); }

bool isLoopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1"; }

}  // namespace

struct DistGroup::Impl {
  DistEnv env;
  std::string backendName = "gloo";
  c10::Device device = c10::Device(c10::kCPU);  // NCCL: the rank's GPU

  // NCCL reduces device tensors only: the small CPU tensors the trainer shares (live
  // values, the loss, metrics, optimizer bytes) go through the rank's GPU and back.
  template <class Op>
  void onDevice(std::vector<at::Tensor>& tensors, Op&& op) {
    if (backendName != "nccl" || std::all_of(tensors.begin(), tensors.end(), [&](const at::Tensor& t) {
          return t.device() == device;
        })) {
      op(tensors);
      return;
    }
    std::vector<at::Tensor> moved;
    for (const auto& t : tensors) moved.push_back(t.to(device));
    op(moved);
    for (size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(moved[i]);
  }
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::vector<c10::intrusive_ptr<c10d::Work>> pending;

  // Heartbeat: a counter in the store, bumped every kBeat on a connection of its own.
  static constexpr std::chrono::milliseconds kBeat{500};
  std::thread heart;
  std::mutex heartMutex;
  std::condition_variable heartCv;
  bool stopping = false;

  void startHeartbeat() {
    auto client = connectStore(env, false, false, env.connectTimeout);
    heart = std::thread([this, client] {
      std::unique_lock<std::mutex> lock(heartMutex);
      while (!stopping) {
        try {
          client->add(heartbeatKey(env.rank), 1);
        } catch (...) {
          return;  // the store is gone: the next collective reports it
        }
        heartCv.wait_for(lock, kBeat, [this] { return stopping; });
      }
    });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(heartMutex);
      stopping = true;
    }
    heartCv.notify_all();
    if (heart.joinable()) heart.join();
  }

  // The ranks whose heartbeat did not move over a few beats; throws if the store is unreachable.
  std::vector<int> silentRanks() {
    auto probe = connectStore(env, false, false, std::chrono::milliseconds(5000));
    std::vector<int64_t> before(env.world);
    for (int r = 0; r < env.world; ++r) before[r] = probe->add(heartbeatKey(r), 0);
    std::this_thread::sleep_for(kBeat * 6);
    std::vector<int> silent;
    for (int r = 0; r < env.world; ++r)
      if (r != env.rank && probe->add(heartbeatKey(r), 0) == before[r]) silent.push_back(r);
    return silent;
  }
};

DistGroup::DistGroup(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
DistGroup::~DistGroup() = default;

std::shared_ptr<DistGroup> DistGroup::join(const DistEnv& env, const std::string& device) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  const std::string who = "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world);
  try {
    impl->store = connectStore(env, env.rank == 0, true, env.connectTimeout);
  } catch (const std::exception& e) {
    throw Error(who, std::string(env.rank == 0 ? "cannot start the rendezvous store on " : "cannot reach the rendezvous store at ") +
                         storeAddress(env) + " within " + std::to_string(env.connectTimeout.count() / 1000) +
                         " s (MASTER_ADDR/MASTER_PORT): " + firstLine(e.what()));
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("prunelab", impl->store);
  try {
    if (device.rfind("cuda", 0) == 0) {
#ifdef PRUNELAB_WITH_NCCL
      impl->device = c10::Device(device);
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = env.timeout;
      impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, env.rank, env.world, o);
      impl->backendName = "nccl";
#else
      throw Error(device, "data-parallel training on CUDA needs NCCL: this PruneLab was built against a LibTorch "
                          "without CUDA (Gloo reduces CPU tensors only)");
#endif
    } else {
      auto o = c10d::ProcessGroupGloo::Options::create(env.timeout);
      // As torch.distributed: GLOO_SOCKET_IFNAME picks the interface; a loopback master
      // means one machine, so loopback it is; otherwise the interface of this host's name.
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (isLoopback(env.masterAddr))
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      o->threads = 2;
      impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world, o);
    }
    impl->startHeartbeat();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(who, "the process group did not form (store " + storeAddress(env) + "): " + firstLine(e.what()));
  }
  return std::shared_ptr<DistGroup>(new DistGroup(std::move(impl)));
}

int DistGroup::rank() const { return m->env.rank; }
int DistGroup::world() const { return m->env.world; }
const DistEnv& DistGroup::env() const { return m->env; }
std::string DistGroup::backend() const { return m->backendName; }

void DistGroup::failed(const std::string& what, const std::string& cause) {
  const std::string me = "rank " + std::to_string(m->env.rank);
  std::vector<int> silent;
  try {
    silent = m->silentRanks();
  } catch (...) {
    throw Error(me, what + " failed: rank 0 (the store's host, " + storeAddress(m->env) +
                        ") is unreachable, so it stopped or its machine did (" + firstLine(cause) + ")");
  }
  if (silent.empty()) throw Error(me, what + " failed (" + firstLine(cause) + ")");
  std::string names;
  for (int r : silent) names += (names.empty() ? "" : ", ") + std::to_string(r);
  throw Error(me, what + " failed: rank " + names + (silent.size() > 1 ? " have" : " has") +
                      " stopped (no heartbeat in the store for 3 s): " + firstLine(cause));
}

void DistGroup::broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what) {
  if (tensors.empty()) return;
  try {
    // LibTorch's own coalescing (DDP's module-state sync): tensors of one dtype travel
    // flattened in ~25 MB buckets, a collective per bucket rather than per tensor.
    m->onDevice(tensors, [&](std::vector<at::Tensor>& v) { c10d::broadcast_coalesced(m->group, v, 25u << 20, root); });
  } catch (const std::exception& e) {
    failed(what, e.what());
  }
}

void DistGroup::allreduceSum(at::Tensor& tensor, const std::string& what) {
  try {
    std::vector<at::Tensor> one{tensor};
    m->onDevice(one, [&](std::vector<at::Tensor>& v) { m->group->allreduce(v)->wait(); });
  } catch (const std::exception& e) {
    failed(what, e.what());
  }
}

void DistGroup::allreduceSumAsync(at::Tensor& tensor) {
  std::vector<at::Tensor> one{tensor};
  m->pending.push_back(m->group->allreduce(one));
}

void DistGroup::waitAll(const std::string& what) {
  auto pending = std::move(m->pending);
  m->pending.clear();
  try {
    for (auto& w : pending) w->wait();
  } catch (const std::exception& e) {
    failed(what, e.what());
  }
}

}  // namespace prunelab
