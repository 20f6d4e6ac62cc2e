from wallboard.cli.main import main

main()
