// The app's shared state: the session, the current page, the chosen project
// and environment, and the project's environments.

import { Api } from './api';
import { LiveHub, type LiveState } from './live';
import { parseRoute, routePath, type Route } from './router';
import { canEdit, loadSession, saveSession } from './session';
import type { Environment, Project, Session } from './types';

const ENV_KEY = 'vexil.environment';

class AppState {
  api = new Api();
  session = $state<Session | null>(null);
  route = $state<Route>({ page: 'login' });
  projects = $state<Project[]>([]);
  environments = $state<Environment[]>([]);
  /** The environment the list's preview and the flag page open on. */
  environment = $state<string>('');
  /** Set when the session ended under the user (expired, revoked). */
  notice = $state<string>('');
  /** The live feed's state, for the header's indicator. */
  liveState = $state<LiveState>('offline');
  /** The current project's live feed; pages subscribe to reload on changes. */
  hub = new LiveHub(
    {
      token: () => this.api.token,
      onState: (state) => (this.liveState = state),
      onFatal: (status) => {
        if (status === 401 && this.session) this.logout('Your session ended; log in again.');
      },
    },
    {
      anchor: async (project) => String((await this.api.changes(project, { perPage: 1 })).items[0]?.id ?? 0),
      connectDelayMs: 1500,
    },
  );

  get project(): string {
    const r = this.route;
    return 'project' in r ? r.project : 'default';
  }

  get canEdit(): boolean {
    return canEdit(this.session?.role);
  }

  start() {
    this.api.onUnauthorized = () => {
      this.logout('Your session ended; log in again.');
    };
    this.setSession(loadSession());
    this.route = parseRoute(location.pathname, location.search);
    window.addEventListener('popstate', () => {
      this.route = parseRoute(location.pathname, location.search);
      void this.loadProject();
    });
    if (!this.session && this.route.page !== 'login') this.go({ page: 'login' }, true);
    else void this.loadProject();
  }

  setSession(session: Session | null) {
    this.session = session;
    this.api.token = session?.token ?? null;
    saveSession(session);
  }

  go(route: Route, replace = false) {
    const path = routePath(route);
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    this.route = route;
    void this.loadProject();
  }

  async login(username: string, password: string) {
    const session = await this.api.login(username, password);
    this.setSession(session);
    this.notice = '';
    this.go({ page: 'flags', project: 'default' }, true);
  }

  logout(notice = '') {
    this.hub.stop();
    this.setSession(null);
    this.projects = [];
    this.environments = [];
    this.notice = notice;
    this.go({ page: 'login' }, true);
  }

  private loadedProject = '';

  /** Loads the projects and the current project's environments once per project. */
  async loadProject() {
    if (!this.session || this.route.page === 'login') return;
    const project = this.project;
    await this.hub.watch(project);
    if (this.loadedProject === project) return;
    this.loadedProject = project;
    try {
      if (this.projects.length === 0) this.projects = (await this.api.projects()).items;
      this.environments = (await this.api.environments(project)).items;
      const saved = localStorage.getItem(`${ENV_KEY}.${project}`);
      const keys = this.environments.map((e) => e.key);
      this.environment = saved && keys.includes(saved) ? saved : (keys[0] ?? '');
    } catch (error) {
      this.loadedProject = '';
      this.notice = error instanceof Error ? error.message : String(error);
    }
  }

  chooseEnvironment(key: string) {
    this.environment = key;
    localStorage.setItem(`${ENV_KEY}.${this.project}`, key);
  }

  isProduction(env: string): boolean {
    return this.environments.find((e) => e.key === env)?.production ?? false;
  }
}

export const app = new AppState();
