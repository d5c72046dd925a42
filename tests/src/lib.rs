//! End-to-end tests across crates live in `tests/tests/`: they start the
//! local chain and run the real `miner` and `validator` binaries against it.
