/**
 * The harvest process (forked by startHarvestProcess in scheduler.ts): runs the harvest scheduler on a
 * connection of its own, with a heap limit of its own, away from the server's processes. A hostile source
 * that exhausts this process's memory or blocks its event loop ends this process only: the server keeps
 * answering, the job's lease expires and the job is failed (deleting nothing), and the parent starts a new
 * harvest process.
 */
import { loadConfig } from '../config.js'
import { createLogger } from '../logging.js'
import { startHarvestScheduler } from './scheduler.js'

const config = loadConfig()
const log = createLogger(config).child({ component: 'harvest', pid: process.pid })
const scheduler = await startHarvestScheduler(config, log)
const stop = () => {
  void scheduler.stop().finally(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
// The parent went away: stop too.
process.once('disconnect', stop)
