package scripting

import lua "github.com/yuin/gopher-lua"

func openCmsgpack(L *lua.LState) *lua.LTable { return L.NewTable() }
func openStruct(L *lua.LState) *lua.LTable   { return L.NewTable() }

type libraryLoad struct{}

func (l *libraryLoad) register(L *lua.LState) int { return 0 }
