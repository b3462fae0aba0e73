package commands

import (
	"testing"
)

func TestDBSizeFlush(t *testing.T) {
	diff(t, `
		DBSIZE
		SET a 1
		SET b 2
		DBSIZE
		COPY a a DB 1
		FLUSHDB
		DBSIZE
		SWAPDB 0 1
		DBSIZE
		SET b 2
		FLUSHDB SYNC
		DBSIZE
		SET a 1
		FLUSHDB async
		DBSIZE
		FLUSHDB foo
		FLUSHDB sync async
		DBSIZE x
		SET a 1
		COPY a a DB 3
		FLUSHALL
		DBSIZE
		SWAPDB 0 3
		DBSIZE
		SET a 1
		FLUSHALL ASYNC
		DBSIZE
		FLUSHALL Sync
		FLUSHALL foo
		FLUSHALL sync x
	`)
}

func TestDBSwap(t *testing.T) {
	diff(t, `
		SET a 0
		COPY a a DB 1
		SET a zero
		PEXPIREAT a 4102444800123
		SWAPDB 0 1
		GET a
		PEXPIRETIME a
		SWAPDB 1 0
		GET a
		PEXPIRETIME a
		SWAPDB 0 0
		GET a
		SWAPDB 15 0
		DBSIZE
		SWAPDB 0 15
		SWAPDB 0 16
		SWAPDB 16 0
		SWAPDB -1 0
		SWAPDB 0 -1
		SWAPDB abc 0
		SWAPDB 0 abc
		SWAPDB abc abc
		SWAPDB 99999999999 0
		SWAPDB 0 99999999999
		SWAPDB 1.0 0
		SWAPDB 0
		SWAPDB 0 1 2
	`)
}
