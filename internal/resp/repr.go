package resp

// AppendRepr appends s quoted as Redis's sdscatrepr quotes it: printable
// ASCII as is, the usual C escapes, \xHH for every other byte. redis-cli,
// MONITOR, the slow log's arguments, the AOF manifest, config error lines
// and the script debugger all print strings this way.
func AppendRepr(b []byte, s []byte) []byte {
	b = append(b, '"')
	for _, c := range s {
		switch c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if c >= 0x20 && c < 0x7f {
				b = append(b, c)
			} else {
				const hex = "0123456789abcdef"
				b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			}
		}
	}
	return append(b, '"')
}

// Repr is AppendRepr of a string.
func Repr(s string) string { return string(AppendRepr(nil, []byte(s))) }
