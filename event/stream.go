package event

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicateWindow is how long JetStream remembers Nats-Msg-Id values. The
// relay re-publishes an event only after a failure, well within it.
const DuplicateWindow = 10 * time.Minute

// ZoneStreamConfig is the configuration of the zone event stream. Events
// are kept for a day so that a nameserver that was down can catch up from
// its cache without a full snapshot; older gaps are healed by snapshots.
func ZoneStreamConfig(replicas int) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	return jetstream.StreamConfig{
		Name:       StreamName,
		Subjects:   []string{ZoneSubjectAll},
		Retention:  jetstream.LimitsPolicy,
		Storage:    jetstream.FileStorage,
		MaxAge:     24 * time.Hour,
		Duplicates: DuplicateWindow,
		Replicas:   replicas,
	}
}
