from rustok.cli import main

main()
