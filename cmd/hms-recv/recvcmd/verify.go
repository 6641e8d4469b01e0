package recvcmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqprecv"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/message"
)

// verifier returns the --verify check: a message passes when its body is an
// hms envelope that verifies with the keyring (stateless: a redelivered
// message must verify again, so there is no replay check here; the
// consumer, e.g. hms-store apply, makes handling idempotent by id).
func verifier(c *cli.Context) (func(*amqprecv.Delivery) error, error) {
	path := c.String("keyring")
	if path == "" {
		return nil, cmdutil.Fatalf("--verify needs --keyring FILE (or HMS_KEYRING)").
			WithHint("a keyring is hms-sign key files concatenated (hms-sign keygen)")
	}
	// A key-file warning goes to the command's stderr, not the process's.
	kr, err := message.LoadKeyring(path, message.OnWarning(cmdutil.Warner(c)))
	if err != nil {
		return nil, cmdutil.Fatalf("--keyring: %v", err)
	}
	return func(d *amqprecv.Delivery) error {
		if _, _, err := kr.Verify(d.Body); err != nil {
			return fmt.Errorf("verify: %v", err)
		}
		return nil
	}, nil
}
