package registrar

// SetAfterStep makes a lifecycle call f after each domain's step inside a
// batch: tests cancel a worker there, halfway through a batch.
func SetAfterStep(cfg *LifecycleConfig, f func()) { cfg.afterStep = f }
