import PolicyHostCLI

RootCommand.runMain()
