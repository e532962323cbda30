#pragma once
// DistGroup: one data-parallel worker's membership of its group, on PyTorch's own c10d
// (the engine under torch.distributed and DDP): a TCPStore for rendezvous (rank 0 hosts
// it) and a ProcessGroupGloo for collectives on CPU tensors, ProcessGroupNCCL for CUDA
// tensors when PruneLab is built against a LibTorch with CUDA (PRUNELAB_WITH_NCCL).
//
// Contract: every rank calls the same collectives in the same order with tensors of the
// same shapes (c10d matches them by order). A collective that fails because another rank
// died or hung throws prunelab::Error naming that rank: each rank publishes a heartbeat
// counter in the store, and the ranks whose counter stopped are the ones named.
// Threads: collectives from one thread (the training thread); the heartbeat runs on its
// own thread with its own store connection.
// Tensors: any dtype the backend reduces (float32/64, int64); CPU for Gloo.

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "distributed/dist_env.h"

namespace prunelab {

class DistGroup {
 public:
  // Joins the group: rank 0 starts the store and waits for all ranks; the others connect
  // to it (retrying until env.timeout). Throws prunelab::Error naming the rank and the
  // store address when the store cannot be reached or the group does not form in time.
  // `device` ("cpu", "cuda:0"...) selects the backend.
  static std::shared_ptr<DistGroup> join(const DistEnv& env, const std::string& device = "cpu");
  ~DistGroup();
  DistGroup(const DistGroup&) = delete;
  DistGroup& operator=(const DistGroup&) = delete;

  int rank() const;
  int world() const;
  const DistEnv& env() const;
  std::string backend() const;  // "gloo" or "nccl"

  // In place, blocking. `what` names the step in error messages. Broadcast takes any mix
  // of dtypes (coalesced per dtype), all on one device.
  void broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what);
  void allreduceSum(at::Tensor& tensor, const std::string& what);

  // Non-blocking sum: started now, finished by waitAll() (in the order started).
  void allreduceSumAsync(at::Tensor& tensor);
  void waitAll(const std::string& what);

 private:
  struct Impl;
  explicit DistGroup(std::unique_ptr<Impl> impl);
  // A collective or store call failed: throws prunelab::Error saying which rank stopped
  // (from the heartbeats, a few seconds of looking) or that the store's host is gone.
  [[noreturn]] void failed(const std::string& what, const std::string& cause);
  std::unique_ptr<Impl> m;
};

}  // namespace prunelab
