package hms_test

import (
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// HMS_ROOT lets scripts run the repository's own shell scripts (the Hadoop
// and Spark emulations, the demo) from their temporary work directory.
func init() {
	scriptSetups = append(scriptSetups, func(env *testscript.Env) error {
		root, err := os.Getwd()
		if err != nil {
			return err
		}
		env.Setenv("HMS_ROOT", root)
		return nil
	})
}
