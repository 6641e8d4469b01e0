package testenv

import (
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// ScriptCommands returns the custom commands of the golden tests
// (testdata/script/*.txtar). Services are asked for explicitly:
//
//	queue                  a queue of the script's own (see scriptQueue)
//	mongodb                a database of the script's own (see scriptMongoDB)
//	devdb start|stop       a dev server of the script's own, for outages
//	amqp ...               talk to the broker directly (see amqpCmd)
//	gw-doc, gw-count, gw-wait  look into the database (see script_gateway.go)
//	sign-bigline, sign-mode    hms-sign fixtures (see script_sign.go)
//	waitfile, metrics-get      wait for a running program (see script_wait.go)
func ScriptCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"queue":        scriptQueue,
		"amqp":         amqpCmd,
		"mongodb":      scriptMongoDB,
		"devdb":        scriptDevDB,
		"gw-doc":       gwDoc,
		"gw-count":     gwCount,
		"gw-wait":      gwWait,
		"gw-sign":      gwSign,
		"sign-bigline": signBigline,
		"sign-mode":    signMode,
		"waitfile":     waitFile,
		"metrics-get":  metricsGet,
	}
}

// ScriptSetup prepares each script's environment: HMS_ROOT is the
// repository, so that scripts can run its shell scripts (the Hadoop and
// Spark emulations) from their temporary work directory. Nothing else:
// a script that needs a service says so with 'queue' or 'mongodb'.
func ScriptSetup(env *testscript.Env) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	env.Setenv("HMS_ROOT", root)
	return nil
}

// scriptName is the name of the running script (its file name without
// .txtar), for the names of the queues and databases it gets.
func scriptName(ts *testscript.TestScript) string {
	return strings.TrimPrefix(filepath.Base(ts.Getenv("WORK")), "script-")
}
