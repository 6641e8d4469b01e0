package store_test

import "github.com/hms-toolkit/hms/pkg/devdb"

func devdbStart(addr, dir string) (*devdb.Server, error) {
	return devdb.Start(devdb.Options{Addr: addr, Dir: dir})
}
