/**
 * What the grading sandbox's two halves agree on: servers/sandbox.ts starts the container, and
 * testing/sandbox-agent.ts runs in it. Node's built-ins only: the agent is bundled from this.
 */

/** Where the folder the harness shares with the sandbox is mounted in the container. */
export const SHARED_DIR = '/run/lab';
/** Written to SHARED_DIR by the agent once its pool listens. */
export const READY_FILE = 'agent-ready.json';

export interface AgentReady {
  /** The pool's socket, a name in SHARED_DIR. */
  socket: string;
  /** The container's address on the sandbox network, where services listen. */
  address: string;
}

/** The user the services run as in the container: nobody, not the agent (root without capabilities). */
export const SERVICE_UID = 65534;
