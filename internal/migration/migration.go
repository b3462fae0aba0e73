// Package migration is the sending side of MIGRATE: the command's
// options, its key positions, and the cached connections to target nodes
// over which keys travel as RESTORE (RESTORE-ASKING in a cluster)
// commands carrying DUMP payloads, as Redis 7.0's migrateCommand.
//
// The package knows nothing of the keyspace. The caller (the server's
// MIGRATE handler, which holds the keys' shard locks for the whole call):
//
//  1. parses the options with ParseOptions and the integers itself;
//  2. looks the keys up and turns each live one into an Item (its DUMP
//     payload and remaining TTL); none: +NOKEY;
//  3. calls Cache.Migrate, which sends them in one pipeline and reads one
//     reply per command;
//  4. deletes, unless COPY, exactly the keys of Result.Acked (the target
//     acknowledged them) and propagates that as one DEL;
//  5. replies Result.Err, or +OK when it is empty.
//
// A key is deleted only after its target acknowledged it, so a target or
// link that dies midway loses nothing: the keys not acknowledged stay on
// the source, and the ones the target applied without our seeing the
// acknowledgement exist on both nodes (as with Redis; redis-cli --cluster
// fix then moves them with REPLACE).
package migration

import (
	"strings"
)

// Error texts of Redis 7.0's MIGRATE.
const (
	ErrSyntax       = "ERR syntax error"
	ErrKeysNotEmpty = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
	errConnect      = "IOERR error or timeout connecting to the client"
	errWriting      = "IOERR error or timeout writing to target instance"
	errReading      = "IOERR error or timeout reading to target instance"
	errTargetFmt    = "ERR Target instance replied with error: "
)

// Options are MIGRATE's arguments after the first six:
// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH password]
// [AUTH2 username password] [KEYS key ...].
type Options struct {
	Copy, Replace bool
	// Auth: AUTH or AUTH2 was given; User is empty for AUTH.
	Auth           bool
	User, Password []byte
	// Keys are the keys to move: args[3], or those after KEYS. They
	// point into the arguments.
	Keys [][]byte
}

// ParseOptions parses args (the whole command, len(args) >= 6) in
// Redis's order and returns the error reply on a bad option. The
// integers (db, timeout) are the caller's to parse, after this.
func ParseOptions(args [][]byte) (Options, string) {
	var o Options
	o.Keys = args[3:4]
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch strings.ToLower(string(args[j])) {
		case "copy":
			o.Copy = true
		case "replace":
			o.Replace = true
		case "auth":
			if more < 1 {
				return o, ErrSyntax
			}
			j++
			o.Auth, o.User, o.Password = true, nil, args[j]
		case "auth2":
			if more < 2 {
				return o, ErrSyntax
			}
			o.Auth, o.User, o.Password = true, args[j+1], args[j+2]
			j += 2
		case "keys":
			if len(args[3]) != 0 {
				return o, ErrKeysNotEmpty
			}
			o.Keys = args[j+1:]
			return o, ""
		default:
			return o, ErrSyntax
		}
	}
	return o, ""
}

// KeyPositions returns the indexes of MIGRATE's keys in args, as Redis's
// migrateGetKeys: args[3], or every argument after a KEYS option (options
// taking values are skipped over); none when KEYS comes with a non-empty
// key argument.
func KeyPositions(args [][]byte) []int {
	if len(args) > 6 {
		for i := 6; i < len(args); i++ {
			switch strings.ToLower(string(args[i])) {
			case "keys":
				if len(args[3]) != 0 {
					return nil
				}
				pos := make([]int, 0, len(args)-i-1)
				for p := i + 1; p < len(args); p++ {
					pos = append(pos, p)
				}
				return pos
			case "auth":
				i++
			case "auth2":
				i += 2
			}
		}
	}
	if len(args) < 4 {
		return nil
	}
	return []int{3}
}
