package controlplane

import "testing"

// TestLockKeysDistinct keeps the keys of locks.go apart: two components
// sharing a key would wait on each other (or, for the session locks, only
// one of them would ever lead).
func TestLockKeysDistinct(t *testing.T) {
	t.Parallel()
	keys := map[string]int64{
		"DefaultRelayLockKey":  DefaultRelayLockKey,
		"DefaultHealthLockKey": DefaultHealthLockKey,
		"insyncLockKey":        insyncLockKey,
		"healthCheckLockClass": int64(healthCheckLockClass),
		"zoneLockClass":        int64(zoneLockClass),
	}
	seen := map[int64]string{}
	for name, k := range keys {
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share the lock key %#x", name, other, k)
		}
		seen[k] = name
	}
}
