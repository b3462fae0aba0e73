package main

// The startup banner (server.c: redisAsciiArt, asciilogo.h).

import (
	"fmt"
	"os"
)

const asciiLogo = "" +
	"                _._                                                  \n" +
	"           _.-``__ ''-._                                             \n" +
	"      _.-``    `.  `_.  ''-._           Redis %s (%s/%d) %s bit\n" +
	"  .-`` .-```.  ```\\/    _.,_ ''-._                                  \n" +
	" (    '      ,       .-`  | `,    )     Running in %s mode\n" +
	" |`-._`-...-` __...-.``-._|'` _.-'|     Port: %d\n" +
	" |    `-._   `._    /     _.-'    |     PID: %d\n" +
	"  `-._    `-._  `-./  _.-'    _.-'                                   \n" +
	" |`-._`-._    `-.__.-'    _.-'_.-'|                                  \n" +
	" |    `-._`-._        _.-'_.-'    |           https://redis.io       \n" +
	"  `-._    `-._`-.__.-'_.-'    _.-'                                   \n" +
	" |`-._`-._    `-.__.-'    _.-'_.-'|                                  \n" +
	" |    `-._`-._        _.-'_.-'    |                                  \n" +
	"  `-._    `-._`-.__.-'_.-'    _.-'                                   \n" +
	"      `-._    `-.__.-'    _.-'                                       \n" +
	"          `-._        _.-'                                           \n" +
	"              `-.__.-'                                               \n\n"

// showLogo says whether the logo replaces the "Running mode=" line: the
// log goes to a terminal (no logfile, no syslog) or always-show-logo yes.
func showLogo(alwaysShow, syslog bool, logfile string) bool {
	if alwaysShow {
		return true
	}
	if syslog || logfile != "" {
		return false
	}
	fi, err := os.Stdout.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// logo is the banner with the version, mode, port and pid filled in; the
// git SHA1 and dirty flag are Redis's values for a build outside git.
func logo(version, mode string, port, pid int) string {
	return fmt.Sprintf(asciiLogo, version, "00000000", 0, "64", mode, port, pid)
}
