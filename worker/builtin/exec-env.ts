/**
 * Environment names a pipeline can never set for an `exec` command, whatever the fleet's policy:
 * they decide which program runs (PATH), what it loads before its own code (LD_PRELOAD,
 * NODE_OPTIONS, PYTHONPATH…), how a shell reads its script (IFS, BASH_ENV, ENV), or they point at
 * credentials and the engine's own settings. A denylist can never be complete, which is why a
 * template of the policy names the few variables a pipeline may set (`pipelineEnv`); this list
 * still holds there and for raw commands on an unrestricted fleet.
 */

/** Refused names, compared upper-cased. */
const EXACT = new Set([
  'PATH', 'IFS', 'ENV', 'BASH_ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PROMPT_COMMAND', 'CDPATH', 'GLOBIGNORE', 'SHELL', 'HOME', 'TMPDIR',
  'GCONV_PATH', 'LOCPATH', 'NLSPATH', 'HOSTALIASES', 'RESOLV_HOST_CONF', 'GLIBC_TUNABLES',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'OPENSSL_CONF', 'OPENSSL_ENGINES', 'PHPRC', 'PHP_INI_SCAN_DIR', 'TCLLIBPATH',
  'EDITOR', 'VISUAL', 'PAGER', 'MANPAGER', 'BROWSER', 'LESSOPEN', 'LESSCLOSE', 'SSH_ASKPASS', 'SUDO_ASKPASS', 'DATABASE_URL',
]);

/** Refused name prefixes (families), compared upper-cased. */
const PREFIXES = ['LD_', 'DYLD_', 'NODE_', 'NPM_', 'PYTHON', 'PERL', 'RUBY', 'GEM_', 'BUNDLE_', 'BASH_', 'MALLOC_', 'LUA_', 'DOTNET_', 'CORECLR_', 'COMPLUS_', 'GIT_', 'AWS_', 'BATCHGRID_'];

/** PATH of every command (and where a policy's bare program names are looked up) when the worker has none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Letters, digits and `_`, not starting with a digit. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a pipeline may not set `name`, or undefined when the denylist does not refuse it. */
export function forbiddenEnvReason(name: string): string | undefined {
  const upper = name.toUpperCase();
  const family = PREFIXES.find((p) => upper.startsWith(p));
  if (!EXACT.has(upper) && !family) return undefined;
  const what = family ? `${family}* variables` : name;
  return `${what} cannot be set from a pipeline: they choose what code the command runs or which credentials it uses (the engine sets PATH, HOME and TMPDIR itself)`;
}
