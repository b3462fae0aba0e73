package replication

// sendBuf is how much of the backlog one write to a replica carries at most.
const sendBuf = 16 * 1024
