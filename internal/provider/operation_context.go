package provider

import (
	"context"
	"time"
)

// defaultStopGrace is how long a CMP operation that has started may still
// run after Terraform asks the provider to stop (the user pressed Ctrl-C).
const defaultStopGrace = 30 * time.Second

// stopGrace is c's grace after a stop: StopGrace, or defaultStopGrace.
func (c clock) stopGrace() time.Duration {
	if c.StopGrace == 0 {
		return defaultStopGrace
	}
	return c.StopGrace
}

// operationContext bounds one CMP operation by timeout. Terraform cancels
// ctx when the user interrupts an apply; a transaction cut off there may
// leave the CA holding a certificate the provider never saw (the answer to
// the ir was on its way), which nobody can revoke. So an operation that
// has started keeps going for up to grace after ctx ends, long enough
// to receive the certificate, confirm it and hand it to Terraform's state;
// the timeout still bounds it, and cmpclient bounds each message.
func operationContext(ctx context.Context, timeout, grace time.Duration) (context.Context, context.CancelFunc) {
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(opCtx, func() { t.Stop() })
	})
	return opCtx, func() {
		stop()
		cancel()
	}
}
