package signcmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/message"
)

func keygenCommand() *cli.Command {
	return &cli.Command{
		Name:      "keygen",
		Usage:     "write a fresh random key to a new file (mode 0600), or to stdout",
		UsageText: "hms-sign keygen --kid ID --origin ORIGIN [--subject OID] --out FILE|-",
		Description: `Writes one line: hms-key-v1 kid=ID origin=ORIGIN [subject=OID] secret=BASE64URL
with a 32-byte secret from the system's random source. The file must not
exist yet; --out - writes the key to standard output instead (to pipe it to
a secret store). Concatenate key files to make a keyring; delete a line to
revoke.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "kid", Usage: "key `ID`, 1-64 of [A-Za-z0-9._-]; put a date in it to ease rotation"},
			&cli.StringFlag{Name: "origin", Usage: "the `ORIGIN` this key signs for: [a-z][a-z0-9-]* (artisan, central-office, worker, …)"},
			&cli.StringFlag{Name: "subject", Usage: "who within the origin the key speaks for, e.g. an artisan's `OID`"},
			&cli.StringFlag{Name: "out", Usage: "write the key to `FILE` (created with mode 0600), or to stdout with -"},
		},
		Action: keygen,
	}
}

func keygen(c *cli.Context) error {
	if err := cmdutil.Require(c, "kid", "origin", "out"); err != nil {
		return err
	}
	if err := cmdutil.NoArgs(c, "keygen takes only flags"); err != nil {
		return err
	}
	k, err := message.GenerateKey(c.String("kid"), c.String("origin"), c.String("subject"))
	if err != nil {
		return cmdutil.Fatalf("%v", err)
	}
	out := c.String("out")
	if out == "-" {
		text, _ := k.MarshalText() // k is valid: GenerateKey checked it
		if _, err := fmt.Fprintf(c.App.Writer, "%s\n", text); err != nil {
			return cmdutil.Fatalf("writing the key: %v", err)
		}
		fmt.Fprintf(c.App.ErrWriter, "%s: wrote key %s to standard output\n", name, k)
		return nil
	}
	if err := message.WriteKeyFile(out, k); err != nil {
		if errors.Is(err, os.ErrExist) {
			return cmdutil.Fatalf("%s already exists", out).WithHint("keygen never overwrites a key; choose another --out")
		}
		return cmdutil.Fatalf("%v", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "%s: wrote key %s to %s\n", name, k, out)
	return nil
}
