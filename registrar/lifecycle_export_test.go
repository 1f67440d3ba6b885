package registrar

// SetAfterStep makes a lifecycle call f after each domain's step inside a
// batch: tests cancel a worker there, halfway through a batch.
func SetAfterStep(cfg *LifecycleConfig, f func()) { cfg.afterStep = f }

// SetAfterSend makes the external worker call f after a command's answer
// arrived and before it is recorded: tests kill the worker there.
func SetAfterSend(cfg *ExternalConfig, f func(command, domain string)) { cfg.afterSend = f }
