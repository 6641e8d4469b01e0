package recvcmd

import (
	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqprecv"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// verifier returns the --verify check.
func verifier(c *cli.Context) (func(*amqprecv.Delivery) error, error) {
	return nil, cmdutil.Fatalf("--verify is not available yet")
}
