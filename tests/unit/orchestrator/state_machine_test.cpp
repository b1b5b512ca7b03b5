#include "orchestrator/state_machine.hpp"

#include <gtest/gtest.h>

using namespace dive::orch;
using S = DeployState;

TEST(StateMachine, TheDeployPathIsValid) {
  S path[] = {S::Unknown, S::Initializing, S::Deploying, S::Configuring, S::Verifying, S::Complete};
  for (size_t i = 0; i + 1 < std::size(path); ++i) EXPECT_TRUE(transition_allowed(path[i], path[i + 1]));
}

TEST(StateMachine, SkippingStepsIsInvalid) {
  EXPECT_FALSE(transition_allowed(S::Unknown, S::Complete));
  EXPECT_FALSE(transition_allowed(S::Initializing, S::Verifying));
  EXPECT_FALSE(transition_allowed(S::Deploying, S::Complete));
  EXPECT_FALSE(transition_allowed(S::Complete, S::Deploying));
  EXPECT_FALSE(transition_allowed(S::Cleanup, S::Failed));
  EXPECT_FALSE(transition_allowed(S::Failed, S::Failed));
  EXPECT_FALSE(transition_allowed(S::Complete, S::Complete));
}

TEST(StateMachine, RecoveryPaths) {
  EXPECT_TRUE(transition_allowed(S::Complete, S::Initializing));
  EXPECT_TRUE(transition_allowed(S::Failed, S::Initializing));
  EXPECT_TRUE(transition_allowed(S::Failed, S::RollingBack));
  EXPECT_TRUE(transition_allowed(S::RollingBack, S::Cleanup));
  EXPECT_TRUE(transition_allowed(S::Cleanup, S::Unknown));
  for (S s :
       {S::Unknown, S::Initializing, S::Deploying, S::Configuring, S::Verifying, S::Complete, S::RollingBack})
    EXPECT_TRUE(transition_allowed(s, S::Failed)) << to_string(s);
}

TEST(StateMachine, NamesRoundTrip) {
  for (S s : {S::Unknown, S::Initializing, S::Deploying, S::Configuring, S::Verifying, S::Complete, S::Failed,
              S::RollingBack, S::Cleanup})
    EXPECT_EQ(parse_state(to_string(s)), s);
  EXPECT_FALSE(parse_state("SEEDING"));
}

TEST(StateMachine, ShortestPathsUseOnlyValidSteps) {
  EXPECT_EQ(path_to(S::Complete, S::Unknown), (std::vector<S>{S::Cleanup, S::Unknown}));
  EXPECT_EQ(path_to(S::Deploying, S::Unknown),
            (std::vector<S>{S::Failed, S::RollingBack, S::Cleanup, S::Unknown}));
  EXPECT_TRUE(path_to(S::Unknown, S::Unknown).empty());
  auto p = path_to(S::Unknown, S::Complete);
  ASSERT_EQ(p.size(), 5u);
  S cur = S::Unknown;
  for (S s : p) {
    EXPECT_TRUE(transition_allowed(cur, s));
    cur = s;
  }
}
