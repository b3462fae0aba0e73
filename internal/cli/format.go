package cli

// Reply formatting, byte for byte as redis-cli 7.0 prints replies
// (redis-cli.c: cliFormatReplyTTY, cliFormatReplyRaw, cliFormatReplyCSV).

import (
	"strconv"
	"strings"

	"redgo/internal/resp"
)

// FormatTTY renders v as redis-cli does on a terminal.
func FormatTTY(v resp.Value) string {
	var b strings.Builder
	formatTTY(&b, v, "")
	return b.String()
}

func formatTTY(b *strings.Builder, v resp.Value, prefix string) {
	switch v.Type {
	case '-':
		b.WriteString("(error) " + v.Str + "\n")
	case '+':
		b.WriteString(v.Str + "\n")
	case ':':
		b.WriteString("(integer) " + strconv.FormatInt(v.Int, 10) + "\n")
	case ',':
		b.WriteString("(double) " + v.Str + "\n")
	case '(':
		b.WriteString("(big number) " + v.Str + "\n")
	case '=':
		b.WriteString(verbatim(v) + "\n")
	case '#':
		if v.Int != 0 {
			b.WriteString("(true)\n")
		} else {
			b.WriteString("(false)\n")
		}
	case '_':
		b.WriteString("(nil)\n")
	case '$':
		if v.Null {
			b.WriteString("(nil)\n")
		} else {
			b.WriteString(resp.Repr(v.Str) + "\n")
		}
	case '*', '%', '~', '>':
		if v.Null {
			b.WriteString("(nil)\n")
			return
		}
		formatAggregateTTY(b, v, prefix)
	default:
		b.WriteString(resp.Repr(v.Str) + "\n")
	}
}

func formatAggregateTTY(b *strings.Builder, v resp.Value, prefix string) {
	if len(v.Elems) == 0 {
		b.WriteString(map[byte]string{'*': "(empty array)\n", '%': "(empty hash)\n",
			'~': "(empty set)\n", '>': "(empty push)\n"}[v.Type])
		return
	}
	n := len(v.Elems)
	if v.Type == '%' {
		n /= 2
	}
	idxlen := len(strconv.Itoa(n))
	sub := prefix + strings.Repeat(" ", idxlen+2)
	sep := ")"
	switch v.Type {
	case '~':
		sep = "~"
	case '%':
		sep = "#"
	}
	for i := 0; i < len(v.Elems); i++ {
		human := i + 1
		if v.Type == '%' {
			human = i/2 + 1
		}
		// The first entry's prefix is already written by the caller.
		if i > 0 {
			b.WriteString(prefix)
		}
		idx := strconv.Itoa(human)
		b.WriteString(strings.Repeat(" ", idxlen-len(idx)) + idx + sep + " ")
		if v.Type != '%' {
			formatTTY(b, v.Elems[i], sub)
			continue
		}
		// A map entry: the key's newline becomes " => ".
		var key strings.Builder
		formatTTY(&key, v.Elems[i], sub)
		b.WriteString(strings.TrimSuffix(key.String(), "\n"))
		b.WriteString(" => ")
		i++
		if multiline(v.Elems[i]) {
			b.WriteString("\n" + sub)
		}
		formatTTY(b, v.Elems[i], sub)
	}
}

// multiline says whether formatTTY renders v on more than one line.
func multiline(v resp.Value) bool {
	switch v.Type {
	case '*', '~', '>':
		if len(v.Elems) == 0 {
			return false
		}
		return len(v.Elems) > 1 || multiline(v.Elems[0])
	case '%':
		if len(v.Elems) == 0 {
			return false
		}
		return len(v.Elems) > 2 || multiline(v.Elems[1])
	}
	return false
}

// FormatRaw renders v as redis-cli --raw does, without the trailing
// command delimiter; mbDelim separates the elements of an aggregate.
func FormatRaw(v resp.Value, mbDelim string) string {
	var b strings.Builder
	formatRaw(&b, v, mbDelim)
	return b.String()
}

func formatRaw(b *strings.Builder, v resp.Value, mbDelim string) {
	switch v.Type {
	case '_':
	case '-':
		b.WriteString(v.Str + "\n")
	case '+', ',', '(':
		b.WriteString(v.Str)
	case '=':
		b.WriteString(verbatim(v))
	case '#':
		if v.Int != 0 {
			b.WriteString("(true)")
		} else {
			b.WriteString("(false)")
		}
	case ':':
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case '*', '~', '>':
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteString(mbDelim)
			}
			formatRaw(b, e, mbDelim)
		}
	case '%':
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if i > 0 {
				b.WriteString(mbDelim)
			}
			formatRaw(b, v.Elems[i], mbDelim)
			b.WriteString(" ")
			formatRaw(b, v.Elems[i+1], mbDelim)
		}
	default: // bulk string; a null one prints nothing
		b.WriteString(v.Str)
	}
}

// FormatCSV renders v as redis-cli --csv does, without the newline.
func FormatCSV(v resp.Value) string {
	switch v.Type {
	case '-':
		return "ERROR," + resp.Repr(v.Str)
	case '+':
		return resp.Repr(v.Str)
	case ':':
		return strconv.FormatInt(v.Int, 10)
	case ',', '(':
		return v.Str
	case '=':
		return resp.Repr(verbatim(v))
	case '_':
		return "NULL"
	case '#':
		if v.Int != 0 {
			return "true"
		}
		return "false"
	case '*', '~', '>', '%':
		if v.Null {
			return "NULL"
		}
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = FormatCSV(e)
		}
		return strings.Join(parts, ",")
	}
	if v.Null {
		return "NULL"
	}
	return resp.Repr(v.Str)
}

// verbatim is a verbatim string's text without its "txt:" format.
func verbatim(v resp.Value) string {
	if len(v.Str) >= 4 && v.Str[3] == ':' {
		return v.Str[4:]
	}
	return v.Str
}
