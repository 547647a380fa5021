package store

// migration is one numbered step of the schema. Its statements use the
// type placeholders of dialect.ddl. Migrations are part of the format:
// never edit a released one, add the next.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations, applied in order, each in its own transaction (on Oracle,
// whose DDL commits by itself, statement by statement: see DATABASE.md).
var migrations = []migration{
	{1, "T41, T41_LOG, RPT_PENDING, PNX", []string{
		// T41 exactly as DESIGN.md draws it. MSG_SEQ is never reused
		// (AUTOINCREMENT on SQLite): a late, repeated Accept deletes by
		// MSG_SEQ and must not hit a newer row.
		`CREATE TABLE T41 (
  MSG_SEQ    {{SEQ_PK}},
  CLIENT_ID  {{VARCHAR}}(10) NOT NULL,
  MSG_KEY    {{VARCHAR}}(20) NOT NULL,
  STATUS     CHAR(1) NOT NULL,
  SEND_TIME  CHAR(14) NOT NULL,
  MSG_TYPE   CHAR(1),
  JOB_CLASS  CHAR(1),
  CALLBACK   {{VARCHAR}}(16),
  DEST       {{VARCHAR}}(16),
  SUBJECT    {{VARCHAR}}(120),
  MSG_TEXT   {{VARCHAR}}(4000),
  REG_TIME   CHAR(14) NOT NULL,
  CLAIM_TIME CHAR(14),
  CONSTRAINT T41_UK UNIQUE (CLIENT_ID, MSG_KEY)
)`,
		// DESIGN.md's (STATUS, SEND_TIME) with MSG_SEQ after it: the claim
		// reads due rows oldest first in index order, with no sort, even
		// when thousands share one SEND_TIME.
		`CREATE INDEX T41_IX_DUE ON T41 (STATUS, SEND_TIME, MSG_SEQ)`,
		`CREATE TABLE T41_LOG (
  GW_ID          {{VARCHAR}}(20) NOT NULL PRIMARY KEY,
  SOURCE         CHAR(1),
  CLIENT_ID      {{VARCHAR}}(10),
  MSG_KEY        {{VARCHAR}}(20),
  MSG_SEQ        {{BIGINT}},
  MSG_TYPE       CHAR(1),
  JOB_CLASS      CHAR(1),
  CALLBACK       {{VARCHAR}}(16),
  DEST           {{VARCHAR}}(16),
  SUBJECT        {{VARCHAR}}(120),
  MSG_TEXT       {{VARCHAR}}(4000),
  SEND_TIME      CHAR(14),
  CARRIER        {{VARCHAR}}(4),
  SENDER         {{VARCHAR}}(10),
  STATUS         CHAR(1) NOT NULL,
  ACCEPT_TIME    CHAR(14),
  ACK_TIME       CHAR(14),
  ACK_CODE       {{VARCHAR}}(4),
  CARRIER_MSG_ID {{VARCHAR}}(40),
  REPORT_TIME    CHAR(14),
  RESULT_CODE    {{VARCHAR}}(4),
  CARRIER_CODE   {{VARCHAR}}(10),
  RESULT_SRC     CHAR(1)
)`,
		// The report-timeout sweep reads STATUS 3 rows by age.
		`CREATE INDEX T41_LOG_IX_OPEN ON T41_LOG (STATUS, ACCEPT_TIME)`,
		// REPORTs owed to listener clients, from the transaction that made
		// the result until dbx has queued them (MarkReported).
		`CREATE TABLE RPT_PENDING (
  GW_ID    {{VARCHAR}}(20) NOT NULL PRIMARY KEY,
  REG_TIME CHAR(14) NOT NULL
)`,
		`CREATE TABLE PNX (
  PHONE_NO {{VARCHAR}}(16) NOT NULL PRIMARY KEY,
  CARRIER  {{VARCHAR}}(4) NOT NULL,
  UPD_TIME CHAR(14) NOT NULL,
  SOURCE   CHAR(1) NOT NULL
)`,
	}},
	{2, "T41 reclaim index", []string{
		// The reclaim half of ClaimDue (STATUS 2 rows whose CLAIM_TIME is
		// older than the reclaim time, oldest first) reads this index from
		// its start and stops at the first row not old enough: no sort, and
		// no visit to the rows claimed recently. Without it every claim
		// that looks for rows to reclaim reads and sorts every STATUS 2 row,
		// which during a large drain is every row claimed and not yet moved
		// to T41_LOG (measured: the PostgreSQL drain fell to 757 rows/s).
		`CREATE INDEX T41_IX_RECLAIM ON T41 (STATUS, CLAIM_TIME, MSG_SEQ)`,
	}},
	{3, "PNX update-time index", []string{
		// dist refreshes its copy of PNX every minute with the rows dbx
		// learned from carrier reports since its last look
		// (LoadPNXSince): an index probe, not a scan of every ported
		// number.
		`CREATE INDEX PNX_IX_UPD ON PNX (UPD_TIME)`,
	}},
}

// schemaVersionDDL creates the table that records applied migrations.
const schemaVersionDDL = `CREATE TABLE SCHEMA_VERSION (
  VERSION      {{INT}} NOT NULL PRIMARY KEY,
  NAME         {{VARCHAR}}(100) NOT NULL,
  APPLIED_TIME CHAR(14) NOT NULL
)`

// Column lists, in the order the store binds and scans them.
var (
	t41Cols = []string{"MSG_SEQ", "CLIENT_ID", "MSG_KEY", "STATUS", "SEND_TIME", "MSG_TYPE", "JOB_CLASS",
		"CALLBACK", "DEST", "SUBJECT", "MSG_TEXT", "REG_TIME", "CLAIM_TIME"}
	logCols = []string{"GW_ID", "SOURCE", "CLIENT_ID", "MSG_KEY", "MSG_SEQ", "MSG_TYPE", "JOB_CLASS",
		"CALLBACK", "DEST", "SUBJECT", "MSG_TEXT", "SEND_TIME", "CARRIER", "SENDER", "STATUS",
		"ACCEPT_TIME", "ACK_TIME", "ACK_CODE", "CARRIER_MSG_ID", "REPORT_TIME", "RESULT_CODE",
		"CARRIER_CODE", "RESULT_SRC"}
	pnxCols = []string{"PHONE_NO", "CARRIER", "UPD_TIME", "SOURCE"}
)
