/** How `pulumi up` judges a model's swarm service from what the engine reports (shapes as `GET /tasks` returns them). */
import { convergenceFailure, judgeConvergence, TaskReport } from "../../components/swarm/convergence";

const running: TaskReport = { DesiredState: "running", Status: { State: "running", Message: "started" } };
const unplaced: TaskReport = {
    DesiredState: "running",
    Status: { State: "pending", Message: "pending task scheduling", Err: "no suitable node (insufficient resources on 1 node)" },
};
const stopped: TaskReport = { DesiredState: "shutdown", Status: { State: "shutdown", Message: "shutdown" } };

describe("judgeConvergence", () => {
    test("every replica running and no update in progress is converged", () => {
        expect(judgeConvergence("hello", 2, {}, [running, running, stopped])).toEqual({ state: "converged", running: 2 });
    });

    test("a completed update with every replica running is converged", () => {
        expect(judgeConvergence("hello", 1, { UpdateStatus: { State: "completed" } }, [running])).toEqual({ state: "converged", running: 1 });
    });

    test("replicas no node took are waiting, with the scheduler's reason", () => {
        expect(judgeConvergence("hello", 3, {}, [running, unplaced, unplaced])).toEqual({
            state: "waiting",
            running: 1,
            unplaced: 2,
            reason: "no suitable node (insufficient resources on 1 node)",
        });
    });

    test("an update in progress is waiting even when the count is reached", () => {
        expect(judgeConvergence("hello", 1, { UpdateStatus: { State: "updating" } }, [running, running]).state).toBe("waiting");
    });

    test("tasks of the previous spec that are shutting down do not count", () => {
        expect(judgeConvergence("hello", 2, {}, [running, stopped]).state).toBe("waiting");
    });

    test("a rolled-back update fails, naming the model and swarm's reason", () => {
        const verdict = judgeConvergence(
            "hello",
            1,
            { UpdateStatus: { State: "rollback_completed", Message: "update rolled back due to failure" } },
            [running],
        );
        expect(verdict).toEqual({
            state: "failed",
            message:
                "model `hello`: swarm rollback completed its update (update rolled back due to failure), so it runs its previous version: " +
                "see `docker service ps` for the failed tasks, fix the model, then `pulumi up --refresh` (the refresh lets Pulumi see the version swarm went back to)",
        });
    });

    test("the newest failed task's error is kept for the time-out message", () => {
        const failed = (at: string, err: string): TaskReport => ({ DesiredState: "shutdown", Status: { State: "failed", Err: err, Timestamp: at } });
        const verdict = judgeConvergence("hello", 1, {}, [failed("2026-11-30T10:00:02Z", "exit 2"), failed("2026-11-30T10:00:01Z", "exit 1")]);
        expect(verdict).toMatchObject({ state: "waiting", running: 0, lastTaskError: "exit 2" });
    });
});

describe("convergenceFailure", () => {
    test("names the model, the replicas placed, the reason and what to change", () => {
        expect(
            convergenceFailure(
                "hello",
                20,
                { state: "waiting", running: 8, unplaced: 12, reason: "no suitable node (insufficient resources on 1 node)" },
                31,
            ),
        ).toBe(
            "model `hello`: 8 of 20 replicas placed after 31 s; 12 wait: no suitable node (insufficient resources on 1 node). " +
                "Lower or drop the model's `cpu.request` / `memory.request` (reserved on swarm), lower `replicas`, add nodes or relax `swarm.constraints`",
        );
    });

    test("without a placement problem, says how many run and the last task error", () => {
        expect(convergenceFailure("hello", 2, { state: "waiting", running: 0, unplaced: 0, lastTaskError: "No such image" }, 300)).toBe(
            "model `hello`: 0 of 2 replicas running after 300 s; the last task failed with: No such image; see `docker service ps` for every task",
        );
    });
});
