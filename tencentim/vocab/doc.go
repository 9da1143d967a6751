// Package vocab is the vendor's vocabulary: commands, documented rates, limits, group
// types, roles, element types, regions — without the client. It lets packages that
// only speak about Tencent Cloud Chat (the mapping file, its validation) use the
// vendor's names without importing net/http or the REST client; package tencentim
// re-exports every name, so the client's callers keep writing tencentim.CmdImportMsg.
package vocab
