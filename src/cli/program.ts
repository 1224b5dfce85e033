import { readFileSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Argument, Command, Option } from 'commander';
import { type Dataset, type Job, type ResultFormat, RowpoolClient } from '../client/index.js';
import { printDatasets, printJobs, printJson } from './output.js';
import { bytesBar, rowsBar } from './progress.js';
import { jobRequest, type RunOptions, UsageError } from './request.js';

/** Files at least this big get a progress bar while they upload. */
const BAR_MIN_BYTES = 8 * 2 ** 20;

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

interface GlobalOptions {
  readonly url: string;
  readonly token?: string;
}

function clientOf(command: Command): RowpoolClient {
  const { url, token } = command.optsWithGlobals<GlobalOptions>();
  return new RowpoolClient({ url, ...(token === undefined ? {} : { token }) });
}

/** Follows the job with a row bar and fails the command unless it succeeds. */
async function follow(client: RowpoolClient, job: Job): Promise<Job> {
  const bar = rowsBar(job.op, job.progress.rowsTotal);
  let ended: Job;
  try {
    ended = await client.wait(job.id, { onProgress: ({ rowsDone }) => bar.update(rowsDone) });
    if (ended.status === 'succeeded') bar.update(ended.progress.rowsDone);
  } finally {
    bar.stop();
  }
  if (ended.status !== 'succeeded') {
    printJson(ended);
    throw new UsageError(`job ${ended.id} ${ended.status}: ${ended.error?.message ?? 'no reason given'}`);
  }
  return ended;
}

function formatOf(option: string | undefined, output: string | undefined): ResultFormat {
  if (option !== undefined) return option as ResultFormat;
  const extension = output === undefined ? '' : extname(output).slice(1);
  return extension === 'csv' || extension === 'json' ? extension : 'npy';
}

export function program(): Command {
  const cli = new Command('rowpool')
    .description('Upload arrays to a rowpool server, run per-row jobs on them and fetch the results.')
    .version(version)
    .addOption(new Option('--url <url>', 'the server').env('ROWPOOL_URL').default('http://127.0.0.1:3000'))
    .addOption(new Option('--token <token>', 'bearer token').env('ROWPOOL_API_TOKEN'))
    .showHelpAfterError();

  cli
    .command('upload')
    .description('upload an .npy file, streamed from disk; prints the dataset')
    .argument('<file>', 'the .npy file')
    .option('--name <name>', 'a label for the dataset')
    .action(async (file: string, options: { name?: string }, command: Command) => {
      const { size } = await stat(file);
      const bar = size >= BAR_MIN_BYTES ? bytesBar(size) : undefined;
      let dataset: Dataset;
      try {
        dataset = await clientOf(command).upload(file, {
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(bar === undefined ? {} : { onProgress: (sent: number) => bar.update(sent) }),
        });
      } finally {
        bar?.stop();
      }
      printJson(dataset);
    });

  cli
    .command('datasets')
    .description('list the datasets')
    .option('--name <name>', 'only datasets with this name')
    .option('--json', 'print JSON')
    .action(async (options: { name?: string; json?: boolean }, command: Command) => {
      const datasets = await clientOf(command).datasets(options.name);
      if (options.json) printJson(datasets);
      else printDatasets(datasets);
    });

  cli
    .command('run')
    .description('start a job on a dataset; prints the job (with --wait, once it has ended)')
    .argument('<datasetId>', 'the dataset')
    .argument('<op>', 'the op: sum, mean, std, norm, cosine, …')
    .option(
      '--param <key=value>',
      'an op parameter, e.g. ddof=1 (repeat for more)',
      (value: string, earlier: string[] = []) => [...earlier, value],
    )
    .option('--vector <numbers>', 'the query vector of dot, cosine and euclidean: 1,2,3')
    .option('--vector-file <file.npy>', 'the query vector from an .npy file')
    .option('--rows <start:end>', 'only these rows (end-exclusive)')
    .option('--top <k>', 'keep the k best rows')
    .option('--largest', 'top keeps the largest values')
    .option('--no-largest', 'top keeps the smallest values')
    .option('--wait', 'wait for the job with a progress bar')
    .action(
      async (datasetId: string, op: string, options: RunOptions & { wait?: boolean }, command: Command) => {
        const client = clientOf(command);
        const job = await client.submit(datasetId, await jobRequest(op, options));
        printJson(options.wait ? await follow(client, job) : job);
      },
    );

  cli
    .command('wait')
    .description('wait for a job with a progress bar; prints it once it has ended')
    .argument('<jobId>', 'the job')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      const client = clientOf(command);
      printJson(await follow(client, await client.job(jobId)));
    });

  cli
    .command('result')
    .description("write a succeeded job's result to a file (or stdout)")
    .argument('<jobId>', 'the job')
    .option('-o, --output <file>', 'the file to write')
    .addOption(
      new Option('--format <format>', 'npy, csv or json (default: from the file name, else npy)').choices([
        'npy',
        'csv',
        'json',
      ]),
    )
    .action(async (jobId: string, options: { output?: string; format?: string }, command: Command) => {
      const bytes = await clientOf(command).resultBytes(jobId, formatOf(options.format, options.output));
      if (options.output === undefined) process.stdout.write(bytes);
      else await writeFile(options.output, bytes);
    });

  cli
    .command('jobs')
    .description('list jobs, newest first, a page at a time')
    .addOption(
      new Option('--status <status>').choices(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    )
    .option('--dataset <datasetId>', "only this dataset's jobs")
    .option('--op <op>', 'only jobs of this op')
    .option('--limit <n>', 'jobs per page (default 100)')
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .option('--json', 'print JSON')
    .action(
      async (
        options: {
          status?: Job['status'];
          dataset?: string;
          op?: Job['op'];
          limit?: string;
          cursor?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        const page = await clientOf(command).jobs({
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.dataset === undefined ? {} : { datasetId: options.dataset }),
          ...(options.op === undefined ? {} : { op: options.op }),
          ...(options.limit === undefined ? {} : { limit: Number(options.limit) }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        });
        if (options.json) printJson(page);
        else printJobs(page.jobs);
        if (!options.json && page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
      },
    );

  cli
    .command('cancel')
    .description('cancel a job, keeping its record')
    .argument('<jobId>', 'the job')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      printJson(await clientOf(command).cancel(jobId));
    });

  cli
    .command('delete')
    .description('delete a dataset (cancelling its jobs) or a job')
    .addArgument(new Argument('<kind>', 'what to delete').choices(['dataset', 'job']))
    .argument('<id>', 'its id')
    .action(async (kind: 'dataset' | 'job', id: string, _options: unknown, command: Command) => {
      const client = clientOf(command);
      if (kind === 'dataset') await client.deleteDataset(id);
      else await client.deleteJob(id);
    });

  return cli;
}
