// The app's pages and their URLs. The server answers every such path with
// index.html, so a reload or a shared link opens the same page.

export type Route =
  | { page: 'login' }
  | { page: 'flags'; project: string }
  | { page: 'flag'; project: string; flag: string; env?: string }
  | { page: 'history'; project: string; flag?: string }
  | { page: 'kill-switches'; project: string }
  | { page: 'rollout-plans'; project: string }
  | { page: 'timeline'; project: string; query?: string }
  | { page: 'not-found'; path: string };

const dec = decodeURIComponent;
const enc = encodeURIComponent;

export function parseRoute(pathname: string, search = ''): Route {
  const parts = pathname.split('/').filter(Boolean).map(dec);
  const env = new URLSearchParams(search).get('env') ?? undefined;
  if (parts.length === 0) return { page: 'flags', project: 'default' };
  if (parts[0] === 'login' && parts.length === 1) return { page: 'login' };
  if (parts[0] === 'projects' && parts.length >= 2) {
    const project = parts[1];
    const rest = parts.slice(2);
    if (rest.length === 0 || (rest.length === 1 && rest[0] === 'flags')) return { page: 'flags', project };
    if (rest[0] === 'flags' && rest.length === 2) return { page: 'flag', project, flag: rest[1], env };
    if (rest[0] === 'flags' && rest.length === 3 && rest[2] === 'history') {
      return { page: 'history', project, flag: rest[1] };
    }
    if (rest.length === 1 && rest[0] === 'history') return { page: 'history', project };
    if (rest.length === 1 && rest[0] === 'kill-switches') return { page: 'kill-switches', project };
    if (rest.length === 1 && rest[0] === 'rollout-plans') return { page: 'rollout-plans', project };
    if (rest.length === 1 && rest[0] === 'timeline') return { page: 'timeline', project, query: search.replace(/^\?/, '') || undefined };
  }
  return { page: 'not-found', path: pathname };
}

export function routePath(route: Route): string {
  switch (route.page) {
    case 'login':
      return '/login';
    case 'flags':
      return `/projects/${enc(route.project)}/flags`;
    case 'flag':
      return `/projects/${enc(route.project)}/flags/${enc(route.flag)}${route.env ? `?env=${enc(route.env)}` : ''}`;
    case 'history':
      return route.flag
        ? `/projects/${enc(route.project)}/flags/${enc(route.flag)}/history`
        : `/projects/${enc(route.project)}/history`;
    case 'kill-switches':
      return `/projects/${enc(route.project)}/kill-switches`;
    case 'rollout-plans':
      return `/projects/${enc(route.project)}/rollout-plans`;
    case 'timeline':
      return `/projects/${enc(route.project)}/timeline${route.query ? `?${route.query}` : ''}`;
    case 'not-found':
      return route.path;
  }
}
