package registrar

// SetAfterStep makes a lifecycle call f after each domain's step inside a
// batch: tests cancel a worker there, halfway through a batch.
func SetAfterStep(cfg *LifecycleConfig, f func()) { cfg.afterStep = f }

// SetAfterSend makes the external worker call f after a command's answer
// arrived and before it is recorded: tests kill the worker there.
func SetAfterSend(cfg *ExternalConfig, f func(command, domain string)) { cfg.afterSend = f }

// SetBeforeTransferRequest makes s call f between a transfer in's
// transaction and its EPP request to an external registry; an error from
// f ends the request there, as if the process had died.
func SetBeforeTransferRequest(s *Service, f func() error) { s.beforeTransferRequest = f }
