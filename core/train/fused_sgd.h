#pragma once
// One SGD step of a torch::optim::SGD done with multi-tensor (_foreach) kernels: the same
// arithmetic as SGD::step() - weight decay, momentum with dampening, Nesterov - but a
// handful of dispatches per parameter group instead of four per tensor. The optimizer's
// own state (momentum buffers) and options are used and updated, so checkpoints written
// with SGD::save() stay valid and SGD::step() may be mixed in.

#include <torch/optim/sgd.h>

namespace prunelab {

void fusedSgdStep(torch::optim::SGD& optimizer);

}  // namespace prunelab
