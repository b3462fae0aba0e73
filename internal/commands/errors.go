package commands

// Error replies, byte for byte as Redis 7.0 sends them (without the '-').
const (
	ErrWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrSyntax        = "ERR syntax error"
	ErrNotInt        = "ERR value is not an integer or out of range"
	ErrNotFloat      = "ERR value is not a valid float"
	ErrOverflow      = "ERR increment or decrement would overflow"
	ErrNoSuchKey     = "ERR no such key"
	ErrIndexRange    = "ERR index out of range"
	ErrDBIndex       = "ERR DB index is out of range"
	ErrInvalidExpire = "ERR invalid expire time in '%s' command"
	ErrTimeout       = "ERR timeout is not a float or out of range"
	ErrTimeoutNeg    = "ERR timeout is negative"
	ErrNotPositive   = "ERR value is out of range, must be positive"
	ErrBitOffset     = "ERR bit offset is not an integer or out of range"
	ErrBitValue      = "ERR bit is not an integer or out of range"
	ErrStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrNumKeysZero   = "ERR numkeys should be greater than 0"
	ErrNaN           = "ERR resulting score is not a number (NaN)"
	ErrMinMaxFloat   = "ERR min or max is not a float"
	ErrMinMaxLex     = "ERR min or max not valid string range item"
	ErrHLLInvalid    = "INVALIDOBJ Corrupted HLL object detected"
	ErrHLLWrongType  = "WRONGTYPE Key is not a valid HyperLogLog string value."
	ErrSameObject    = "ERR source and destination objects are the same"
	ErrNoScript      = "NOSCRIPT No matching script. Please use EVAL."
	ErrInvalidCursor = "ERR invalid cursor"
	ErrExecAbort     = "EXECABORT Transaction discarded because of previous errors."
)

// WrongArgs is the arity error for a command ("get", "config|get").
func WrongArgs(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}
