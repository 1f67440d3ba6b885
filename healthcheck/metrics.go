package healthcheck

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// probeMetrics counts a checker's probes by result, type and region and
// times them. A nil *probeMetrics (no Config.Metrics) records nothing.
type probeMetrics struct {
	probes   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	region   string
}

func newProbeMetrics(reg prometheus.Registerer, region string) *probeMetrics {
	if reg == nil {
		return nil
	}
	m := &probeMetrics{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_health_probes_total",
			Help: "Health probes made by this checker, by result (success, failure), check type and region.",
		}, []string{"result", "type", "region"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waymark_health_probe_duration_seconds",
			Help:    "Time one health probe took, by check type and region.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 4, 10},
		}, []string{"type", "region"}),
		region: region,
	}
	reg.MustRegister(m.probes, m.duration)
	return m
}

func (m *probeMetrics) observe(typ string, res Result, d time.Duration) {
	if m == nil {
		return
	}
	result := "failure"
	if res.OK {
		result = "success"
	}
	m.probes.WithLabelValues(result, typ, m.region).Inc()
	m.duration.WithLabelValues(typ, m.region).Observe(d.Seconds())
}
