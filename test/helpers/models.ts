import { MODEL_DEFAULTS } from "../../components/config/model";
import { Model } from "../../components/config/model";

/** A validated model with the spec's defaults (as `validateModel` fills them), for tests. */
export function testModel(name: string, overrides: Partial<Model> = {}): Model {
    return {
        name,
        packages: [],
        replicas: MODEL_DEFAULTS.replicas,
        cpu: { ...MODEL_DEFAULTS.cpu },
        memory: { ...MODEL_DEFAULTS.memory },
        port: MODEL_DEFAULTS.port,
        env: {},
        ...overrides,
    };
}
