package amqpconn

import (
	"testing"
	"time"
)

func TestStatsBlocked(t *testing.T) {
	var st Stats
	if st.Blocked() != 0 {
		t.Fatal("blocked before any block")
	}
	st.blockStart("low on memory")
	since, reason, ok := st.BlockedNow()
	if !ok || reason != "low on memory" || time.Since(since) > time.Minute {
		t.Fatalf("BlockedNow = %v %q %v", since, reason, ok)
	}
	st.blockedAt.Store(time.Now().Add(-time.Second).UnixNano()) // began a second ago
	d := st.blockEnd()
	if d < time.Second || st.Blocked() != d {
		t.Fatalf("blockEnd = %v, Blocked = %v", d, st.Blocked())
	}
	if _, _, ok := st.BlockedNow(); ok {
		t.Fatal("still blocked after blockEnd")
	}
	if st.blockEnd() != 0 || st.Blocked() != d {
		t.Fatal("a second blockEnd counted")
	}
}
