/**
 * Source names. A source is one directory of one repository, so its default
 * name is the repository's identity plus the path inside it, in git's
 * <tree>:<path> spelling: "github.com/acme/infra:units/prod". Two
 * directories of one repository are two sources; the same directory in two
 * clones of one remote is one. The identity comes from remote.origin.url
 * (credentials, port and ".git" dropped), else from the work tree's path.
 */
import { InvalidInputError } from '../util/errors.js';

export const SOURCE_NAME_MAX = 200;

const SEGMENT = /^[A-Za-z0-9._~:@+-]+$/;

export function sourceNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (Buffer.byteLength(name) > SOURCE_NAME_MAX) return `it is longer than ${SOURCE_NAME_MAX} bytes`;
  if (!/^[A-Za-z0-9]/.test(name)) return 'it must start with a letter or digit';
  for (const seg of name.split('/')) {
    if (seg === '') return 'it has an empty path segment ("//" or a trailing "/")';
    if (seg === '.' || seg === '..') return `it has a "${seg}" segment`;
    if (!SEGMENT.test(seg)) return 'use letters, digits and . _ ~ : @ + - / only';
  }
  return undefined;
}

export function validateSourceName(name: string): string {
  const problem = sourceNameProblem(name);
  if (problem !== undefined) throw new InvalidInputError(`invalid source name ${JSON.stringify(name)}: ${problem}`);
  return name;
}

/** Characters a name may not have become "-"; empty segments go. */
function tidy(path: string): string {
  return path
    .split('/')
    .map((s) => s.replace(/[^A-Za-z0-9._~@+-]/g, '-'))
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .join('/');
}

/**
 * "https://user:token@GitHub.com:443/acme/infra.git" -> "github.com/acme/infra";
 * "git@github.com:acme/infra.git" -> "github.com/acme/infra";
 * "/srv/git/infra.git" or "file:///srv/git/infra.git" -> "srv/git/infra".
 */
export function repositoryIdentity(originUrl: string | undefined, topLevel: string): string {
  let id: string;
  const scp = originUrl === undefined ? null : /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/.exec(originUrl);
  if (originUrl === undefined) id = topLevel;
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(originUrl)) {
    try {
      const u = new URL(originUrl);
      id = `${u.hostname.toLowerCase()}/${decodeURIComponent(u.pathname)}`;
    } catch {
      id = originUrl;
    }
  } else if (scp && !originUrl.startsWith('/')) id = `${(scp[1] as string).toLowerCase()}/${scp[2] as string}`;
  else id = originUrl;
  id = tidy(id.replace(/\/+$/, '').replace(/\.git$/, ''));
  return id === '' ? 'local' : id;
}

/** The default name: "<identity>" for the top of the repository, else "<identity>:<path>". */
export function defaultSourceName(identity: string, path: string): string {
  const p = tidy(path);
  const name = p === '' ? identity : `${identity}:${p}`;
  return Buffer.byteLength(name) <= SOURCE_NAME_MAX ? name : name.slice(name.length - SOURCE_NAME_MAX).replace(/^[^A-Za-z0-9]+/, '');
}
