package server

// LoadData loads the dataset at start-up, before the listener serves
// clients: the AOF when appendonly is on, else the RDB file (dbfilename in
// dir). The persistence code (persist_aof.go, persist_rdb.go) fills in
// loadAOF and loadRDB.
func (s *Server) LoadData() error {
	for _, fn := range persistSetup {
		fn(s)
	}
	if s.Cfg.Bool("appendonly") {
		if loadAOF != nil {
			return loadAOF(s)
		}
		return nil
	}
	if loadRDB != nil {
		return loadRDB(s)
	}
	return nil
}

// Set by the persistence files in their init(). persistSetup runs first,
// whatever appendonly says (CONFIG SET hooks, background jobs).
var (
	loadAOF      func(s *Server) error
	loadRDB      func(s *Server) error
	persistSetup []func(s *Server)
)
