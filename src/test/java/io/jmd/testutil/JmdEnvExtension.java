package io.jmd.testutil;

import io.jmd.Env;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.List;

/**
 * Gives each test a fresh {@link Env#forTests} (real threads, a checker in THROW mode, leak-tracked
 * buffers), closes it after the test, and then fails the test if the dependency checker recorded
 * any violation (also those thrown on background threads, where nobody would see the exception)
 * or a buffer was never released.
 *
 * <p>Two ways to use it:
 * <pre>
 *   &#64;ExtendWith(JmdEnvExtension.class)            // then take an Env parameter
 *   void test(Env env) { ... }
 *
 *   &#64;RegisterExtension                              // or pick the budget and call env()
 *   final JmdEnvExtension jmd = new JmdEnvExtension(1 &lt;&lt; 20);
 * </pre>
 * Tests that provoke violations on purpose build their own scheduler and checker instead.
 */
public final class JmdEnvExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
    /** Enough for a few MiB-sized buffers plus the pools a unit test makes. */
    public static final long BUDGET_BYTES_DEFAULT = 64L << 20;

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(JmdEnvExtension.class);

    private final long budgetBytes;
    /** The current test's Env, for the @RegisterExtension style (one extension instance per test instance). */
    private volatile Env env;

    public JmdEnvExtension() {
        this(BUDGET_BYTES_DEFAULT);
    }

    public JmdEnvExtension(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    /** The Env of the running test. */
    public Env env() {
        Env e = env;
        if (e == null) {
            throw new IllegalStateException("no Env: called outside a test");
        }
        return e;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Env e = Env.forTests(budgetBytes);
        context.getStore(NAMESPACE).put(Env.class, e);
        env = e;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Env e = context.getStore(NAMESPACE).remove(Env.class, Env.class);
        env = null;
        if (e == null) {
            return;
        }
        e.close();
        check(e);
    }

    /** The checks run after each test; public so that a test that builds its own Env can run them too. */
    public static void check(Env e) {
        List<String> violations = e.scheduler().checker().violations();
        if (!violations.isEmpty()) {
            throw new AssertionError("dependency checker recorded " + violations.size() + " violation(s):\n"
                + String.join("\n", violations));
        }
        e.buffers().assertNoLeaks();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == Env.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Env e = extensionContext.getStore(NAMESPACE).get(Env.class, Env.class);
        if (e == null) {
            throw new IllegalStateException("Env parameters are for test methods (beforeEach made none)");
        }
        return e;
    }
}
