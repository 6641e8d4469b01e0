package sendcmd

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/hms-toolkit/hms/pkg/amqpsend"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// What a run stopped by a signal says, and where it tells a rerun to start.
func TestStopped(t *testing.T) {
	ctx, stop := context.WithCancelCause(context.Background())
	stop(&cmdutil.SignalError{Signal: syscall.SIGTERM})
	for _, tc := range []struct {
		res       amqpsend.Result
		failed    string
		msg, hint string
	}{
		{amqpsend.Result{LastRead: 5}, "",
			"stopped by SIGTERM: the input after line 5 was not read", "resume with: tail -n +6 INPUT | hms-send ..."},
		{amqpsend.Result{}, "", "stopped by SIGTERM: no line was read", ""},
		{amqpsend.Result{LastRead: 9, Failed: 2, FirstNotSent: 7}, "",
			"stopped by SIGTERM: lines from 7 on were not all confirmed, and the input after line 9 was not read",
			"resume with: tail -n +7 INPUT | hms-send ... (with --failed FILE, only what is missing would be sent again)"},
		{amqpsend.Result{LastRead: 9, Failed: 2, FirstNotSent: 8, InputDone: true}, "",
			"stopped by SIGTERM: lines from 8 on were not all confirmed",
			"resume with: tail -n +8 INPUT | hms-send ... (with --failed FILE, only what is missing would be sent again)"},
		{amqpsend.Result{LastRead: 9, Failed: 2, FirstNotSent: 7}, "rest",
			"stopped by SIGTERM: the input after line 9 was not read", "resume with: { cat rest; tail -n +10 INPUT; } | hms-send ..."},
		{amqpsend.Result{LastRead: 9}, "rest",
			"stopped by SIGTERM: the input after line 9 was not read", "resume with: tail -n +10 INPUT | hms-send ..."},
		{amqpsend.Result{LastRead: 9, Failed: 1, FirstNotSent: 9, InputDone: true}, "rest",
			"stopped by SIGTERM: every line was read, but not all were confirmed", "send the lines in rest again: hms-send ... < rest"},
	} {
		err := stopped(ctx, &tc.res, tc.failed)
		var e *cmdutil.Error
		if !errors.As(err, &e) || e.Code != 143 || e.Error() != tc.msg || e.Hint != tc.hint {
			t.Errorf("%+v, --failed %q:\ngot  %v (%d), hint %q\nwant %s, hint %q", tc.res, tc.failed, err, e.Code, e.Hint, tc.msg, tc.hint)
		}
	}
}
